"""Issue 18, items 9 and 10: brand-voice trainings and originality work are budgeted per
workspace, per person and per deployment, sized by what they cost, and kept out of the way of
everyone's generations (their own queue; the broker's lowest priority)."""

from __future__ import annotations

import re
import time
import tracemalloc
import uuid

import numpy as np
import pytest
from django.urls import reverse

from copywriter.documents.services import document_create, document_save
from copywriter.originality import indexing, services
from copywriter.originality.models import OriginalityCheck, Passage
from copywriter.voices import services as voices
from copywriter.voices.models import BrandVoice
from copywriter.workspaces.models import Membership, Role, Workspace
from tests.support.cast import client_for

pytestmark = pytest.mark.django_db

SAMPLES = [
    f"Sample {i}: our studio brews small-batch cold coffee number {i} with oat milk, a pinch of "
    f"sea salt and absolutely no shortcuts, because mornings deserve better than a sad bean."
    for i in range(24)
]


@pytest.fixture
def trainings(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr("copywriter.voices.tasks.train_voice.apply_async",
                        lambda args: sent.append(args[0]))
    return sent


@pytest.fixture
def checks(monkeypatch):
    """What the originality services hand to the broker: (task, args, options)."""
    sent: list[tuple[str, list[int], dict]] = []
    from copywriter.originality import tasks

    for name in ("check_document", "index_document", "index_reference"):
        monkeypatch.setattr(getattr(tasks, name), "apply_async",
                            lambda args, _n=name, **kw: sent.append((_n, args, kw)))
    return sent


def _workspaces_of(user, n: int) -> list[Membership]:
    out = []
    for i in range(n):
        ws = Workspace.objects.create(name=f"Extra {i}", created_by=user)
        out.append(Membership.objects.create(workspace=ws, user=user, role=Role.OWNER))
    return out


def _finish(voice: BrandVoice) -> None:
    BrandVoice.objects.filter(pk=voice.pk).update(status="ready")


# --- item 9: brand-voice trainings -----------------------------------------------------------

def test_a_training_flood_from_one_workspace_queues_one_and_answers_429(
        cast, trainings, django_capture_on_commit_callbacks):
    client = client_for(cast.bob)
    url = reverse("generation:voices", args=[cast.ws.pk])
    with django_capture_on_commit_callbacks(execute=True):
        answers = [client.post(url, {"name": f"House {i}", "samples": "\n\n".join(SAMPLES)})
                   for i in range(10)]
    assert answers[0].status_code == 302
    assert {a.status_code for a in answers[1:]} == {429}
    assert "already waiting or training" in answers[1].content.decode()
    assert BrandVoice.objects.count() == 1 and len(trainings) == 1


def test_trainings_per_workspace_per_day(cast, trainings, settings):
    settings.VOICE_TRAININGS_PER_DAY = 3
    for i in range(3):
        _finish(voices.voice_create(membership=cast.alice_m, name=f"V{i}", samples=SAMPLES))
    with pytest.raises(voices.VoiceError, match="3 brand-voice trainings today") as info:
        voices.voice_create(membership=cast.bob_m, name="V4", samples=SAMPLES)
    assert info.value.status == 429
    assert BrandVoice.objects.count() == 3
    voices.voice_create(membership=cast.charlie_m, name="Elsewhere", samples=SAMPLES)  # control


def test_trainings_per_person_per_day_across_their_workspaces(cast, trainings, settings):
    settings.VOICE_TRAININGS_PER_USER_PER_DAY = 2
    mine = _workspaces_of(cast.charlie, 3)
    for m in mine[:2]:
        _finish(voices.voice_create(membership=m, name="V", samples=SAMPLES))
    with pytest.raises(voices.VoiceError, match="the daily limit per person"):
        voices.voice_create(membership=mine[2], name="V", samples=SAMPLES)
    voices.voice_create(membership=cast.alice_m, name="V", samples=SAMPLES)  # someone else


def test_trainings_waiting_or_running_in_the_deployment_are_capped(cast, trainings, settings):
    settings.VOICE_TRAININGS_PENDING_MAX = 2
    voices.voice_create(membership=cast.alice_m, name="A", samples=SAMPLES)
    voices.voice_create(membership=cast.charlie_m, name="C", samples=SAMPLES)
    third = _workspaces_of(cast.vera, 1)[0]
    with pytest.raises(voices.VoiceError, match="2 brand voices are already waiting"):
        voices.voice_create(membership=third, name="V", samples=SAMPLES)
    _finish(BrandVoice.objects.get(name="A"))
    voices.voice_create(membership=third, name="V", samples=SAMPLES)  # a slot freed up


def test_trainings_have_a_queue_the_generation_workers_do_not_read(settings):
    from copywriter.celery import app

    route = app.amqp.router.route({}, "generation.train_voice")["queue"].name
    assert route == settings.VOICE_QUEUE != settings.GENERATION_QUEUE
    assert app.amqp.router.route({}, "generation.generate")["queue"].name == settings.GENERATION_QUEUE


def test_make_run_starts_a_worker_for_the_voice_queue_and_one_for_generations(monkeypatch):
    """`make run` is `manage.py run_all`: its processes, as started."""
    from django.conf import settings
    from django.core.management import call_command

    from copywriter.core.management.commands import run_all

    started: list[list[str]] = []

    class Exited:
        def __init__(self, cmd, **kw):
            started.append(cmd)

        def poll(self):
            return 0

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(run_all.subprocess, "Popen", Exited)
    monkeypatch.setattr(run_all.Command, "_wait_for_port", lambda *a, **k: False)
    call_command("run_all", "--keep-embedded")
    workers = [c for c in started if "worker" in c]
    queues = [set(c[c.index("-Q") + 1].split(",")) for c in workers]
    assert {settings.VOICE_QUEUE} in queues
    generation = next(q for q in queues if settings.GENERATION_QUEUE in q)
    assert settings.VOICE_QUEUE not in generation


# --- item 10: originality checks and indexing ------------------------------------------------

def _big_doc(membership, chars: int = 199_000):
    """``chars`` characters of sentences that are all different (identical passages are
    embedded once, so repeated text would cost the index almost nothing)."""
    tag = uuid.uuid4().hex[:6]
    sentences, size, i = [], 0, 0
    while size < chars:
        sentence = f"Boot {tag} model {i} keeps feet dry on wet spring walk number {i * 7}. "
        sentences.append(sentence)
        size, i = size + len(sentence), i + 1
    return document_create(membership=membership, title=f"Big {tag}",
                           body="".join(sentences)[:chars])


def test_a_document_has_at_most_one_pending_check(cast, checks,
                                                  django_capture_on_commit_callbacks):
    doc = _big_doc(cast.alice_m, 5_000)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.document_check_request(membership=cast.alice_m, document=doc)
        again = services.document_check_request(membership=cast.vera_m, document=doc)
    assert again.pk == first.pk
    # a newer version: the waiting check moves to it rather than queueing a second one
    document_save(membership=cast.alice_m, document_id=doc.pk, title=doc.title,
                  body=doc.body + " More.", base_number=doc.head_number)
    doc.refresh_from_db()
    moved = services.document_check_request(membership=cast.bob_m, document=doc)
    assert moved.pk == first.pk and moved.document_version == doc.head_number
    assert OriginalityCheck.objects.count() == 1
    assert [n for n, _, _ in checks].count("check_document") == 1


def test_checks_are_paid_in_characters_per_workspace(cast, checks, settings):
    settings.ORIGINALITY_CHECK_CHARS_PER_DAY = 450_000
    settings.ORIGINALITY_CHECK_CHARS_PER_USER_PER_DAY = 10_000_000
    docs = [_big_doc(cast.alice_m) for _ in range(3)]
    client = client_for(cast.vera)  # a viewer may check: they are counted like anyone
    answers = [client.post(reverse("originality:check", args=[cast.ws.pk, d.pk]),
                           HTTP_HX_REQUEST="true") for d in docs]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "checked its 450,000 characters for today" in answers[2].content.decode()
    assert OriginalityCheck.objects.count() == 2
    # small documents still fit in what is left
    small = _big_doc(cast.alice_m, 2_000)
    assert services.document_check_request(membership=cast.alice_m, document=small)


def test_checks_are_paid_in_characters_per_person(cast, checks, settings):
    settings.ORIGINALITY_CHECK_CHARS_PER_USER_PER_DAY = 250_000
    a, b = _big_doc(cast.alice_m), _big_doc(cast.alice_m)
    services.document_check_request(membership=cast.vera_m, document=a)
    with pytest.raises(services.OriginalityError, match="daily limit per person") as info:
        services.document_check_request(membership=cast.vera_m, document=b)
    assert info.value.status == 429
    services.document_check_request(membership=cast.bob_m, document=b)  # another person
    assert OriginalityCheck.objects.count() == 2


def test_originality_jobs_go_at_the_lowest_priority(cast, checks,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        doc = _big_doc(cast.alice_m, 3_000)
        services.document_check_request(membership=cast.alice_m, document=doc)
    assert {n for n, _, _ in checks} >= {"check_document", "index_document"}
    assert checks and all(kw.get("priority") == services.LOW_PRIORITY for _, _, kw in checks)


def test_redis_serves_the_lowest_priority_last(settings):
    """What LOW_PRIORITY relies on: with the Redis transport, a priority-9 message waits behind
    a priority-0 one sent after it (kombu polls priority 0 first)."""
    from kombu import Connection

    url = settings.CACHES["default"]["LOCATION"]
    if isinstance(url, list):
        url = url[0]
    if not str(url).startswith("redis"):
        pytest.skip("needs a Redis cache URL")
    name = f"test-priority-{uuid.uuid4().hex}"
    with Connection(url) as conn:
        queue = conn.SimpleQueue(name)
        try:
            queue.put({"job": "originality"}, priority=9)
            queue.put({"job": "generation"})
            order = [queue.get(timeout=2).payload["job"] for _ in range(2)]
        finally:
            queue.clear()
            queue.close()
    assert order == ["generation", "originality"]


@pytest.fixture
def fake_embed(monkeypatch):
    embedded: list[int] = []

    def embed(texts):
        embedded.append(sum(len(t) for t in texts))
        return np.ones((len(texts), 384), dtype=np.float32) / np.sqrt(384)

    monkeypatch.setattr("copywriter.originality.search.embed", embed)
    return embedded


def test_indexing_is_paid_in_new_characters_per_workspace(cast, fake_embed, settings):
    # a 199,000-character document is about 1.2 million characters of passages to embed
    settings.ORIGINALITY_INDEX_CHARS_PER_DAY = 2_000_000
    first, second = _big_doc(cast.alice_m), _big_doc(cast.alice_m)
    assert indexing.index_document(first.pk).startswith("indexed")
    assert 1_000_000 < fake_embed[0] < 1_500_000
    assert indexing.index_document(second.pk) == "over budget"  # another 1.2 million does not fit
    assert not Passage.objects.filter(document_id=second.pk).exists()
    assert len(fake_embed) == 1
    # an edit pays only for the passages it changed, which fit in what is left
    document_save(membership=cast.alice_m, document_id=first.pk, title=first.title,
                  body=first.body + "\n\nA new closing line about laces.",
                  base_number=first.head_number)
    assert indexing.index_document(first.pk).startswith("indexed")
    assert fake_embed[-1] < 1_000
    # another workspace has its own budget; the operator's reindex has none
    assert indexing.index_document(_big_doc(cast.charlie_m).pk).startswith("indexed")
    assert indexing.index_document(second.pk, budgeted=False).startswith("indexed")


# --- the cost of the hostile requests themselves ----------------------------------------------

def _flood(cast, *, owner, editor, viewer, ws, measure: str) -> tuple[float, int, list]:
    """One round of the floods against ``ws``; ``measure``: "time" (wall clock) or "memory"
    (tracemalloc's peak, which slows Python down, so it is measured in a round of its own)."""
    long_samples = "\n\n".join(f"Sample {i}: " + "cold coffee with oat milk " * 110
                               for i in range(voices.MAX_SAMPLES))
    docs = [_big_doc(owner) for _ in range(12)]
    bob, vera = client_for(editor), client_for(viewer)
    voices_url = reverse("generation:voices", args=[ws.pk])
    requests = [(bob, voices_url, {"name": f"Flood {i}", "samples": long_samples})
                for i in range(10)]
    # variations, near the 2.5 MB form limit: blank lines (the sample splitter's old patterns
    # took minutes on them), blank lines and dashes, one endless word
    requests += [(bob, voices_url, {"name": name, "samples": samples}) for name, samples in [
        ("Blank", "\n" * 2_400_000),
        ("Dashes", ("  \n---\n \t\n" * 200_000)[:2_400_000]),
        ("Word", "coffee" * 400_000)]]
    requests += [(vera, reverse("originality:check", args=[ws.pk, d.pk]), {})
                 for d in docs for _ in range(3)]
    for client in (bob, vera):  # a running server has its templates and imports loaded
        client.get(voices_url)
    worst, refused = 0.0, []
    for client, url, data in requests:
        if measure == "memory":
            tracemalloc.start()
        started = time.perf_counter()
        response = client.post(url, data, HTTP_HX_REQUEST="true")
        if measure == "memory":
            worst = max(worst, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        else:
            worst = max(worst, time.perf_counter() - started)
        assert response.status_code in (200, 302, 400, 429), (url, response.status_code)
        if response.status_code >= 400:
            refused.append(response)
            assert re.search("limit|already|wait a minute|needs at least",
                             response.content.decode())
    return worst, len(requests), refused


def test_every_flood_request_answers_within_2_s_and_bounded_memory(cast, trainings, checks,
                                                                   settings):
    """Each request of the floods (trainings with the most and longest samples the form takes,
    checks of 199 KB documents by a viewer) answers within 2 s with at most 64 MB allocated,
    a refused one with a 4xx that says why, and nothing half-stored."""
    settings.ORIGINALITY_CHECK_CHARS_PER_DAY = 2_000_000
    settings.ORIGINALITY_CHECK_CHARS_PER_USER_PER_DAY = 1_000_000
    allowed = 1_000_000 // 199_000  # the viewer's own budget is the smaller one
    slowest, n, refused = _flood(cast, owner=cast.alice_m, editor=cast.bob, viewer=cast.vera,
                                 ws=cast.ws, measure="time")
    assert slowest < 2.0, slowest
    assert BrandVoice.objects.count() == 1
    assert OriginalityCheck.objects.count() == allowed
    # each document's repeat requests get its pending check; those beyond the budget, 429s
    assert len(refused) == 9 + 3 + 3 * (12 - allowed)
    # the same round in another workspace, for memory
    other = cast.charlie_m.workspace
    from copywriter.accounts.services import user_create

    editor = user_create(email="ed@example.org", password="x-long-password-1", name="Ed")
    viewer = user_create(email="vi@example.org", password="x-long-password-1", name="Vi")
    Membership.objects.create(workspace=other, user=editor, role=Role.EDITOR)
    Membership.objects.create(workspace=other, user=viewer, role=Role.VIEWER)
    peak, _, _ = _flood(cast, owner=cast.charlie_m, editor=editor, viewer=viewer, ws=other,
                        measure="memory")
    assert peak < 64 * 2**20, peak
    from tests.support.report import report

    report(f"abuse floods: {n} requests a round, slowest {slowest * 1000:.0f} ms, peak "
           f"{peak / 2**20:.1f} MB allocated (tracemalloc), {len(refused)} refused with 4xx")
