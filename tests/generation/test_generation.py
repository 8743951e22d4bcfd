"""Generation requests: validation at the form, storage, and the worker-side runner in-process."""

from __future__ import annotations

import pytest
from django.urls import reverse

from copywriter.generation import runner
from copywriter.generation.models import Generation, Status
from copywriter.generation.services import GenerationError, generation_create
from tests.support.engines import GenerateOnlyEngine, run_worker
from tests.support.templates import GOOD


def _post(client, cast, tpl, **overrides):
    data = {**GOOD, "tone": "witty", "variants": 3, "length": "short", **overrides}
    return client.post(reverse("catalog:detail", args=[cast.ws.pk, tpl.pk]), data)


def test_valid_form_creates_a_generation_and_enqueues_it(bob_client, cast, ad_template, sent):
    response = _post(bob_client, cast, ad_template)
    gen = Generation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("generation:detail", args=[cast.ws.pk, gen.pk])
    assert sent == [gen.pk]
    assert gen.template_version_id == ad_template.current_id
    assert gen.tone == "witty" and gen.variants == 3 and gen.results.count() == 3
    assert 'Use the search term "hiking boots"' in gen.prompt
    assert gen.max_new_tokens <= 120


@pytest.mark.parametrize("overrides,field,message", [
    ({"product": ""}, "product", "Product or service is required."),
    ({"product": "x" * 121}, "product", "the limit is 120"),
    ({"tone": "sarcastic"}, "tone", "Select a valid choice"),
    ({"variants": 9}, "variants", "less than or equal to 5"),
    ({"length": "epic"}, "length", "Select a valid choice"),
])
def test_bad_input_gets_a_message_next_to_the_field_and_nothing_is_stored(
        bob_client, cast, ad_template, sent, overrides, field, message):
    response = _post(bob_client, cast, ad_template, **overrides)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert f'name="{field}"' in html
    # what the user typed is still in the form
    if field != "product":
        assert "Fernway hiking boots" in html
    assert not Generation.objects.exists() and not sent


def test_service_refuses_unknown_fields_and_tones(cast, ad_template, sent):
    with pytest.raises(GenerationError) as exc:
        generation_create(membership=cast.bob_m, template=ad_template,
                          fields={**GOOD, "evil": "x"}, tone="witty")
    assert "Unknown fields" in exc.value.field_errors["__all__"]
    with pytest.raises(GenerationError, match="Unknown tone"):
        generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD, tone="voice-999")
    assert not Generation.objects.exists()


def test_viewer_cannot_generate(vera_client, cast, ad_template, sent):
    assert _post(vera_client, cast, ad_template).status_code == 403
    assert not Generation.objects.exists()


def test_rate_limit_answers_429_with_a_message(bob_client, cast, ad_template, sent, settings):
    settings.GENERATION_RATE_PER_MINUTE = 2
    assert _post(bob_client, cast, ad_template).status_code == 302
    assert _post(bob_client, cast, ad_template).status_code == 302
    third = _post(bob_client, cast, ad_template)
    assert third.status_code == 429
    assert "Too many generations this minute" in third.content.decode()
    assert Generation.objects.count() == 2 and len(sent) == 2


def test_daily_quota(cast, ad_template, sent, settings):
    settings.GENERATION_DAILY_QUOTA = 1
    generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD, tone="witty")
    with pytest.raises(GenerationError) as exc:
        generation_create(membership=cast.alice_m, template=ad_template, fields=GOOD, tone="witty")
    assert exc.value.status == 429 and "quota" in exc.value.message


def test_detail_polls_while_active_and_stops_with_286(alice_client, cast, ad_template, sent):
    gen = generation_create(membership=cast.alice_m, template=ad_template, fields=GOOD, tone="witty")
    url = reverse("generation:detail", args=[cast.ws.pk, gen.pk])
    page = alice_client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in page and "Waiting for a writer" in page
    gen.results.filter(index=0).update(text="Half a sente")
    Generation.objects.filter(pk=gen.pk).update(status=Status.RUNNING)
    partial = alice_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="generation-status")
    assert partial.status_code == 200 and "Half a sente" in partial.content.decode()
    Generation.objects.filter(pk=gen.pk).update(status=Status.DONE)
    gen.results.update(finished=True, text="Final copy")
    done = alice_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="generation-status")
    assert done.status_code == 286 and "Final copy" in done.content.decode()
    assert "Save to document" in done.content.decode()


def test_failed_job_keeps_inputs_and_retry_makes_a_new_job(alice_client, cast, ad_template, sent):
    gen = generation_create(membership=cast.alice_m, template=ad_template, fields=GOOD, tone="witty")
    Generation.objects.filter(pk=gen.pk).update(status=Status.FAILED, error="boom")
    page = alice_client.get(reverse("generation:detail", args=[cast.ws.pk, gen.pk])).content.decode()
    assert "Retry" in page and "boom" in page and "Fernway hiking boots" in page
    alice_client.post(reverse("generation:retry", args=[cast.ws.pk, gen.pk]))
    new = Generation.objects.exclude(pk=gen.pk).get()
    assert new.retry_of_id == gen.pk and new.fields == gen.fields and new.tone == gen.tone


def test_save_variant_to_document_and_rate(alice_client, cast, ad_template, sent):
    gen = generation_create(membership=cast.alice_m, template=ad_template, fields=GOOD, tone="witty")
    gen.results.filter(index=1).update(text="Boots that laugh at puddles.", finished=True)
    response = alice_client.post(reverse("generation:save", args=[cast.ws.pk, gen.pk, 1]))
    from copywriter.documents.models import Document
    doc = Document.objects.get()
    assert doc.body == "Boots that laugh at puddles." and response["Location"].endswith(f"/{doc.pk}/")
    alice_client.post(reverse("generation:rate", args=[cast.ws.pk, gen.pk, 1]), {"rating": "1"})
    assert gen.results.get(index=1).rating == 1


# --- the runner, in-process, on the tiny model -----------------------------------------------

def test_runner_batches_queued_jobs_of_different_tones(cast, ad_template, sent, tiny_engine,
                                                       settings):
    # Whole variants, one place each: written item by item, the three jobs' 90 item rows would
    # not fit one batch of 32 (that costing is tested in tests/generation/test_slots.py).
    settings.GENERATION_SLOTS = False
    gens = [generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD, tone=t,
                              variants=v) for t, v in (("witty", 2), ("bold", 3), ("neutral", 1))]
    run_worker(engine=tiny_engine, first_id=gens[0].pk)
    for gen in gens:
        gen.refresh_from_db()
        assert gen.status == Status.DONE, gen.error
        assert gen.results.count() == gen.variants
        assert all(v.finished and v.tokens > 0 for v in gen.results.all())
        assert gen.timings["scheduler"] == "continuous"
    # one claim took all three into the running batch
    assert len({g.started_at for g in gens}) == 1
    # a redelivered message for a finished job does nothing
    assert runner.prepare(gens[1].pk, "host:2").done


def _claim(gen, me):
    from copywriter.pipeline import scheduler

    return scheduler.claim(me=me, queue=gen.queue, first_id=gen.pk,
                           capacity=scheduler.Capacity(total=32, bulk_share=0.75))


def test_runner_respects_a_live_lease_and_takes_over_a_dead_one(cast, ad_template, sent):
    import os
    import socket

    gen = generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD, tone="witty")
    me = f"{socket.gethostname()}:{os.getpid()}"
    _claim(gen, "elsewhere:123")
    outcome = runner.prepare(gen.pk, me)
    assert not outcome.done and outcome.wait_seconds > 0
    assert not _claim(gen, me)  # held: not queued
    Generation.objects.filter(pk=gen.pk).update(claimed_by=f"{socket.gethostname()}:999999")
    outcome = runner.prepare(gen.pk, me)
    assert not outcome.done and not outcome.wait_seconds
    assert [g.pk for g, _ in _claim(gen, me)] == [gen.pk]
    gen.refresh_from_db()
    assert gen.attempts == 2 and gen.claimed_by == me


def test_missing_adapter_fails_permanently_with_inputs_kept(cast, ad_template, sent, tiny_engine):
    gen = generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD, tone="luxurious")
    run_worker(engine=tiny_engine, first_id=gen.pk)
    gen.refresh_from_db()
    assert gen.status == Status.FAILED and gen.error_permanent
    assert "luxurious" in gen.error and gen.fields == GOOD


def test_crash_releases_the_batch_for_retry_then_fails_after_max_attempts(cast, ad_template, sent):
    gen = generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD, tone="witty")
    for attempt in range(1, runner.MAX_ATTEMPTS + 1):
        batch = [g for g, _ in _claim(gen, "host:1")]
        runner.release(batch, "host:1", "RuntimeError: model exploded", final=False)
        gen.refresh_from_db()
        expected = Status.FAILED if attempt == runner.MAX_ATTEMPTS else Status.QUEUED
        assert gen.status == expected and gen.attempts == attempt
    assert gen.error == "RuntimeError: model exploded" and gen.fields == GOOD


def test_time_limit_marks_the_job_failed_with_inputs_kept(cast, ad_template, sent, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    from copywriter.pipeline.tasks import generate

    gen = generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD, tone="witty")

    class TooSlow(GenerateOnlyEngine):
        adapter_paths = {"witty": runner.adapter_for("witty")[1]}

        def generate(self, requests, on_progress=None):
            raise SoftTimeLimitExceeded()

    monkeypatch.setattr("copywriter.ml.engine.get_engine", TooSlow)
    assert generate.run(gen.pk) == "timeout"
    gen.refresh_from_db()
    assert gen.status == Status.FAILED and "time limit" in gen.error and not gen.error_permanent
    assert gen.fields == GOOD
