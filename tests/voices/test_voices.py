from __future__ import annotations

import pytest
from django.urls import reverse

from copywriter.generation.services import tone_choices
from copywriter.voices import services as voices
from copywriter.voices import training as voice_training
from copywriter.voices.models import BrandVoice

SAMPLES = [
    f"Sample {i}: our studio brews small-batch cold coffee number {i} with oat milk, a pinch of "
    f"sea salt and absolutely no shortcuts, because mornings deserve better than a sad bean."
    for i in range(24)
]


@pytest.fixture
def no_task(monkeypatch):
    sent = []
    monkeypatch.setattr("copywriter.voices.tasks.train_voice.apply_async",
                        lambda args: sent.append(args[0]))
    return sent


def test_too_few_samples_get_a_clear_message_and_keep_the_text(bob_client, cast, no_task):
    text = "\n\n".join(SAMPLES[:5])
    response = bob_client.post(reverse("generation:voices", args=[cast.ws.pk]),
                               {"name": "House", "samples": text})
    html = response.content.decode()
    assert response.status_code == 400
    assert "5 usable samples: a brand voice needs at least 20" in html
    assert SAMPLES[3].split(":")[1][:30] in html  # the pasted text is still there
    assert not BrandVoice.objects.exists() and not no_task


def test_short_and_duplicate_samples_are_named(cast):
    problems = voices.check_samples(["too short"] + SAMPLES[:20] + [SAMPLES[0]])
    text = " ".join(problems)
    assert "Samples 1 have fewer than 12 words" in text and "duplicates" in text


def test_split_on_separator_lines_or_blank_lines():
    assert voices.split_samples("a b\n---\nc d\n\n e") == ["a b", "c d\n\n e"]
    assert voices.split_samples("a b\n\nc d\n\n\n e") == ["a b", "c d", "e"]


def test_upload_and_enqueue(bob_client, cast, no_task, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("copy.txt", "\n---\n".join(SAMPLES).encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = bob_client.post(reverse("generation:voices", args=[cast.ws.pk]),
                                   {"name": "House", "samples": "", "file": upload})
    voice = BrandVoice.objects.get()
    assert response.status_code == 302 and no_task == [voice.pk]
    assert voice.status == "queued" and len(voice.samples) == 24


def test_non_utf8_upload_is_refused(bob_client, cast, no_task):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("copy.txt", b"\xff\xfe\x00bad")
    response = bob_client.post(reverse("generation:voices", args=[cast.ws.pk]),
                               {"name": "House", "samples": "", "file": upload})
    assert response.status_code == 400 and "not UTF-8" in response.content.decode()


def test_training_task_makes_a_workspace_only_tone(cast, tiny_model_dir, tmp_path, settings, no_task):
    settings.MODEL_PATH = str(tiny_model_dir)
    settings.ADAPTER_DIR = tmp_path
    voice = voices.voice_create(membership=cast.bob_m, name="House", samples=SAMPLES)
    assert voice_training.run(voice.pk) == "ready"
    voice.refresh_from_db()
    assert voice.status == "ready" and voice.progress_step == voice.progress_total > 0
    assert (tmp_path / f"voice-{voice.pk}" / "adapter_model.safetensors").exists()
    assert {"similarity_before", "similarity_after"} <= set(voice.metrics)
    assert (f"voice-{voice.pk}", "Brand voice: House") in tone_choices(workspace_id=cast.ws.pk)
    assert all(not k.startswith("voice-") for k, _ in tone_choices(workspace_id=cast.other.pk))
    # a redelivered job for a finished voice does nothing
    assert voice_training.run(voice.pk) == "nothing to do"


def test_cancel_stops_training(cast, tiny_model_dir, tmp_path, monkeypatch, settings, no_task):
    settings.MODEL_PATH = str(tiny_model_dir)
    settings.ADAPTER_DIR = tmp_path
    voice = voices.voice_create(membership=cast.bob_m, name="House", samples=SAMPLES)
    real = voices.progress_writer

    def cancelling(voice_id):
        inner = real(voice_id)

        def progress(step, total, loss):
            if step == 2:
                voices.voice_cancel(membership=cast.bob_m, voice=voice)
            inner(step, total, loss)
        return progress

    monkeypatch.setattr(voice_training, "progress_writer", cancelling)
    assert voice_training.run(voice.pk) == "cancelled"
    voice.refresh_from_db()
    assert voice.status == "cancelled" and voice.progress_step == 1


def test_progress_partial_stops_polling_when_done(bob_client, cast):
    voice = BrandVoice.objects.create(workspace=cast.ws, name="House", samples=SAMPLES,
                                      status="training", progress_step=3, progress_total=9)
    url = reverse("generation:voice", args=[cast.ws.pk, voice.pk])
    partial = bob_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="voice-progress")
    assert partial.status_code == 200 and "Step 3 of 9" in partial.content.decode()
    BrandVoice.objects.filter(pk=voice.pk).update(status="ready", metrics={"similarity_before": 0.2, "similarity_after": 0.6})
    done = bob_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="voice-progress")
    assert done.status_code == 286 and "0.6" in done.content.decode()
