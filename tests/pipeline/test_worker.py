"""The worker pipeline's loop with a scripted engine session: rows join a running batch and leave
it when they finish, rewrites join as new rows, cancelled jobs leave, and the static scheduler
(the bench's baseline) makes a late request wait for the whole batch. The real engine's session
is tested in tests/ml/test_engine.py; the whole path with the tiny model in
tests/pipeline/test_engine.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from copywriter.generation.models import Generation, Status
from copywriter.generation.review import Verdict
from copywriter.ml.engine import SeqResult
from copywriter.pipeline import worker as pipeline_worker
from copywriter.pipeline.worker import SEED_STEP, Pipeline


class ScriptedSession:
    """Each row writes one token per step and finishes after ``max_new_tokens`` steps."""

    def __init__(self, on_step):
        self.rows: dict = {}
        self.parked_rows: dict = {}
        self.park_log: list = []  # (step, keys parked)
        self.waiting: list = []
        self.on_step = on_step
        self.steps = 0
        self.joined_at: dict = {}
        self.cancelled: set = set()

    @property
    def live(self) -> int:
        return len(self.rows) + len(self.parked_rows)

    def park(self, keys):
        self.park_log.append((self.steps, set(keys)))
        for key in keys:
            if key in self.rows:
                self.parked_rows[key] = self.rows.pop(key)

    def resume(self, keys=None):
        for key in list(self.parked_rows):
            if keys is None or key in keys:
                self.rows[key] = self.parked_rows.pop(key)

    def parked(self):
        return set(self.parked_rows)

    def written(self):
        return {key: n for key, (_, n) in self.rows.items()}

    @property
    def pending(self) -> int:
        return len(self.waiting)

    def add(self, requests):
        self.waiting += requests

    def step(self):
        self.steps += 1
        if not self.rows and not self.waiting:
            self.resume()
        for r in self.waiting:
            self.rows[r.key] = [r, 0]
            self.joined_at[r.key] = self.steps
        self.waiting = []
        done = []
        for key, row in list(self.rows.items()):
            row[1] += 1
            if row[1] >= row[0].max_new_tokens:
                done.append(SeqResult(key=key, text=f"copy seed {row[0].seed}", tokens=row[1],
                                      finish_reason="length"))
                del self.rows[key]
        self.on_step(self.steps)
        return done

    def partial(self):
        return [SeqResult(key=k, text="copy", tokens=n, finish_reason="") for k, (_, n) in self.rows.items()]

    def cancel(self, keys):
        self.cancelled |= set(keys)
        for k in keys:
            self.rows.pop(k, None)
            self.parked_rows.pop(k, None)
        self.waiting = [r for r in self.waiting if r.key not in keys]


class ScriptedEngine:
    adapter_paths: dict = {}

    def __init__(self, on_step=lambda step: None):
        self.on_step = on_step
        self.last: ScriptedSession | None = None

    def session(self, system):
        self.last = ScriptedSession(self.on_step)
        return self.last

    def ensure_adapters(self, paths):  # pragma: no cover - neutral tone only here
        raise AssertionError("no adapters needed")


class Accept:
    name = "originality"

    def max_rewrites(self, generation):
        return 2

    def review(self, drafts):
        return [Verdict(report={"verdict": "original"}, rank=(0,)) for _ in drafts]

    def final_report(self, kept, attempts):
        return {**kept.report, "attempts": len(attempts)}

    def finished(self, generation_ids):
        pass


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch):
    monkeypatch.setattr(pipeline_worker, "CLAIM_EVERY", 0.0)
    monkeypatch.setattr(pipeline_worker, "PARTIAL_EVERY", 0.0)


@pytest.fixture
def told(monkeypatch):
    """Generation ids the pipeline told bulk runs about."""
    ids: list[int] = []
    monkeypatch.setattr(pipeline_worker, "generations_finished",
                        lambda *, generation_ids: ids.extend(generation_ids))
    return ids


@pytest.fixture
def make(queued_job):
    def _make(membership, *, bulk=False, tokens=30, variants=1):
        return queued_job(membership, bulk=bulk, tokens=tokens, variants=variants)
    return _make


def _pipeline(engine, *, static=False, stages=None, capacity=8):
    return Pipeline(me="host:1", queue="cpu", engine=engine, stages=stages or [Accept()],
                    capacity=capacity, bulk_share=0.75, max_seconds=60, static=static,
                    slots=False)  # the scheduling, one row per variant (slots: generation/test_slots.py)


def _late_request(cast, make, arrive_at_step: int):
    late: list[Generation] = []

    def on_step(step: int) -> None:
        if step == arrive_at_step:
            late.append(make(cast.alice_m, tokens=20))
    return late, on_step


def test_a_request_that_arrives_mid_batch_joins_it_and_is_done_before_the_bulk_rows(cast, make, told):
    bulk = [make(cast.bob_m, bulk=True, tokens=120) for _ in range(6)]
    late, on_step = _late_request(cast, make, arrive_at_step=10)
    engine = ScriptedEngine(on_step)
    stored = _pipeline(engine).run(first_id=bulk[0].pk)
    assert stored == 7
    gen = Generation.objects.get(pk=late[0].pk)
    assert engine.last.joined_at[(gen.pk, 0, 0, -1, 0)] == 11  # the next step boundary
    assert gen.status == Status.DONE and gen.timings["scheduler"] == "continuous"
    assert gen.timings["class"] == "interactive"
    assert all(gen.finished_at < Generation.objects.get(pk=b.pk).finished_at for b in bulk)
    assert sorted(told) == sorted([b.pk for b in bulk] + [gen.pk])
    assert gen.results.get().text == f"copy seed {gen.sampling.get('seed', 0)}"


def test_the_static_scheduler_makes_a_late_request_wait_for_the_whole_batch(cast, make, told):
    bulk = [make(cast.bob_m, bulk=True, tokens=120) for _ in range(6)]
    late, on_step = _late_request(cast, make, arrive_at_step=10)
    engine = ScriptedEngine(on_step)
    assert _pipeline(engine, static=True).run(first_id=bulk[0].pk) == 7
    gen = Generation.objects.get(pk=late[0].pk)
    assert engine.last.joined_at[(gen.pk, 0, 0, -1, 0)] > 120
    assert all(gen.finished_at > Generation.objects.get(pk=b.pk).finished_at for b in bulk)


def test_rows_leave_when_they_finish_and_the_batch_refills_from_the_queue(cast, make, told):
    """More rows than the batch holds: the queue drains through the free places."""
    rows = [make(cast.alice_m, tokens=5 + i) for i in range(12)]
    engine = ScriptedEngine()
    assert _pipeline(engine, capacity=4).run(first_id=rows[0].pk) == 12
    joined = sorted(engine.last.joined_at.values())
    assert joined[:4] == [1, 1, 1, 1] and joined[4] < 20  # the fifth joined when the first left
    assert Generation.objects.filter(status=Status.DONE).count() == 12


class RewriteFirstAttempt(Accept):
    def review(self, drafts):
        return [Verdict(report={"verdict": "paraphrase" if d.attempt == 0 else "original",
                                "attempt": d.attempt},
                        rewrite=d.attempt == 0, rank=(1,) if d.attempt == 0 else (0,))
                for d in drafts]


def test_a_flagged_variant_is_rewritten_as_a_new_row_and_the_better_attempt_is_kept(cast, make, told):
    gen = make(cast.alice_m, tokens=10, variants=2)
    engine = ScriptedEngine()
    assert _pipeline(engine, stages=[RewriteFirstAttempt()]).run(first_id=gen.pk) == 1
    gen.refresh_from_db()
    seed = gen.sampling.get("seed", 0)
    texts = [v.text for v in gen.results.order_by("index")]
    assert texts == [f"copy seed {seed + SEED_STEP}", f"copy seed {seed + 1 + SEED_STEP}"]
    assert [v.originality for v in gen.results.order_by("index")] == [
        {"verdict": "original", "attempt": 1, "attempts": 2}] * 2
    assert engine.last.joined_at[(gen.pk, 0, 1, -1, 0)] == 11  # joined right after the first attempt
    assert gen.timings["rewrites"] == 2


class AlwaysFlag(Accept):
    def review(self, drafts):
        return [Verdict(report={"verdict": "copy", "attempt": d.attempt}, rewrite=True,
                        rank=(d.attempt == 1, )) for d in drafts]


def test_rewrites_are_bounded_and_a_still_flagged_variant_is_stored_with_its_flag(cast, make, told):
    gen = make(cast.alice_m, tokens=10)
    engine = ScriptedEngine()
    _pipeline(engine, stages=[AlwaysFlag()]).run(first_id=gen.pk)
    variant = gen.results.get()
    # three attempts (2 rewrites), the kept one is the best ranked (attempt 0 or 2, not 1)
    assert variant.originality["attempts"] == 3 and variant.originality["verdict"] == "copy"
    assert variant.originality["attempt"] in (0, 2)


def test_a_cancelled_generation_leaves_the_batch_and_is_not_stored(cast, make, told):
    keep = make(cast.alice_m, tokens=50)
    gone = make(cast.alice_m, tokens=50)

    def on_step(step: int) -> None:
        if step == 5:
            Generation.objects.filter(pk=gone.pk).update(status=Status.CANCELLED)

    engine = ScriptedEngine(on_step)
    assert _pipeline(engine).run(first_id=keep.pk) == 1
    assert (gone.pk, 0, 0, -1, 0) in engine.last.cancelled
    assert Generation.objects.get(pk=gone.pk).status == Status.CANCELLED
    assert Generation.objects.get(pk=keep.pk).status == Status.DONE
    assert gone.pk in told  # its bulk run (if any) hears that the row ended


def test_a_crash_puts_the_claimed_rows_back_in_the_queue(cast, make, told):
    rows = [make(cast.alice_m, tokens=50) for _ in range(3)]

    def on_step(step: int) -> None:
        if step == 3:
            raise RuntimeError("model exploded")

    with pytest.raises(RuntimeError):
        _pipeline(ScriptedEngine(on_step)).run(first_id=rows[0].pk)
    assert set(Generation.objects.values_list("status", flat=True)) == {Status.QUEUED}
    assert Generation.objects.filter(claimed_by="").count() == 3


def test_the_loop_stops_claiming_after_its_time_and_finishes_the_batch(cast, make, told, monkeypatch):
    first = make(cast.alice_m, tokens=20)
    later: list[Generation] = []

    def on_step(step: int) -> None:
        if step == 2:
            later.append(make(cast.alice_m, tokens=20))

    p = _pipeline(ScriptedEngine(on_step))
    p.max_seconds = 0  # time is up at once: only the job whose message started it
    assert p.run(first_id=first.pk) == 1
    assert Generation.objects.get(pk=later[0].pk).status == Status.QUEUED
    assert timezone.now() - Generation.objects.get(pk=first.pk).finished_at < timedelta(minutes=1)


class RewriteVariantZeroOnce(Accept):
    def __init__(self, pk):
        self.pk = pk

    def review(self, drafts):
        again = [d.key == (self.pk, 0) and d.attempt == 0 for d in drafts]
        return [Verdict(report={"verdict": "original"}, rewrite=a, rank=(int(a),)) for a in again]


def test_places_free_up_as_rows_finish_not_when_the_job_is_stored(cast, make, told):
    """The worker counts the rows each job has in the batch before every claim: a 3-variant
    job whose variants 1 and 2 are settled while variant 0 is rewritten holds one place, so a
    2-variant request joins at once instead of waiting until the first job is stored."""
    first = make(cast.alice_m, tokens=10, variants=3)
    later: list[Generation] = []

    def on_step(step: int) -> None:
        if step == 12:  # the rewrite of variant 0 joined at step 11 and writes until step 20
            later.append(make(cast.charlie_m, tokens=5, variants=2))

    engine = ScriptedEngine(on_step)
    assert _pipeline(engine, stages=[RewriteVariantZeroOnce(first.pk)], capacity=3).run(first_id=first.pk) == 2
    assert engine.last.joined_at[(first.pk, 0, 1, -1, 0)] == 11
    assert engine.last.joined_at[(later[0].pk, 0, 0, -1, 0)] == 13  # the next step boundary
    assert (Generation.objects.get(pk=later[0].pk).finished_at
            < Generation.objects.get(pk=first.pk).finished_at)


def test_bulk_rows_are_parked_while_an_interactive_request_runs_and_resumed_after(
        cast, make, told, monkeypatch):
    """A step's time grows with its rows on a CPU: when interactive rows and decoding bulk rows
    are more than the batch holds, bulk rows step aside (parked, state kept) and go on after."""
    monkeypatch.setattr(pipeline_worker, "PARK_MARGIN", 0)
    bulk = [make(cast.bob_m, bulk=True, tokens=40) for _ in range(3)]
    late: list[Generation] = []

    def on_step(step: int) -> None:
        if step == 5:
            late.append(make(cast.alice_m, tokens=20, variants=3))

    engine = ScriptedEngine(on_step)
    assert _pipeline(engine, capacity=4).run(first_id=bulk[0].pk) == 4  # 3 bulk places of 4
    session = engine.last
    gen = Generation.objects.get(pk=late[0].pk)
    assert session.joined_at[(gen.pk, 0, 0, -1, 0)] == 6
    # 3 interactive rows leave room for one bulk row: two were parked as the request joined
    (step, parked), *later = session.park_log
    assert step == 5 and len(parked) == 2 and {key[0] for key in parked} <= {b.pk for b in bulk}
    assert later == []  # no parking back and forth while it ran
    assert all(gen.finished_at < Generation.objects.get(pk=b.pk).finished_at for b in bulk)
    assert Generation.objects.filter(status=Status.DONE).count() == 4
    assert not session.parked_rows


def test_a_slot_variant_shows_its_first_item_as_it_is_written_before_any_item_is_chosen(cast, make,
                                                                                           told):
    gen = make(cast.alice_m)
    shown: dict[int, str] = {}

    def on_step(step):
        # what the page shows after each step (its partial text is written right after)
        if step <= 3:
            shown[step] = Generation.objects.get(pk=gen.pk).results.get().text

    engine = ScriptedEngine(on_step)
    pipeline = Pipeline(me="host:1", queue="cpu", engine=engine, stages=[Accept()], capacity=64,
                        bulk_share=0.75, max_seconds=60)
    assert pipeline.run(first_id=gen.pk) == 1
    # step 1 prefilled the first headline's candidates alone and they wrote their first token;
    # the first candidate shows at once; the other items joined at the next step
    joined = engine.last.joined_at
    lead = min(joined)[:4]
    assert {k for k, v in joined.items() if v == 1} == {lead + (0,)}
    items = {k[:4] for k in joined}
    assert len(items) > 1 and {k[:4] for k, v in joined.items() if v == 2} == items - {lead}
    assert shown[1] == "" and shown[2] == "copy" and shown[3] == "copy"
    # what is stored is what was chosen, never the preview ("copy seed N" fits no item here)
    v = Generation.objects.get(pk=gen.pk).results.get()
    assert v.text == "" and v.choice["missing"][0] == "headline 1"


def _review_steps(cast, make, *, bulk_rows: int, tokens: list[int] | None = None):
    """Bulk rows finishing while an interactive job keeps the batch running: the step after
    which each was reviewed, and the drafts of each review call."""
    bulk = [make(cast.bob_m, bulk=True, tokens=(tokens or [5] * bulk_rows)[i])
            for i in range(bulk_rows)]
    busy = make(cast.alice_m, tokens=30)  # keeps the batch running
    engine = ScriptedEngine()
    reviewed: dict[int, int] = {}  # generation -> the step it was reviewed after
    calls: list[int] = []

    class Recording(Accept):
        def review(self, drafts):
            calls.append(len(drafts))
            for d in drafts:
                reviewed[d.key[0]] = engine.last.steps
            return super().review(drafts)

    assert _pipeline(engine, stages=[Recording()]).run(first_id=busy.pk) == bulk_rows + 1
    assert Generation.objects.filter(status=Status.DONE).count() == bulk_rows + 1
    return [reviewed[b.pk] for b in bulk], reviewed[busy.pk], calls, engine


def test_bulk_variants_are_reviewed_a_group_at_a_time_while_the_batch_runs(cast, make, told,
                                                                         monkeypatch):
    monkeypatch.setattr(pipeline_worker, "BULK_REVIEW_GROUP", 2)
    monkeypatch.setattr(pipeline_worker, "BULK_REVIEW_WAIT", 3600)
    steps, busy, calls, engine = _review_steps(cast, make, bulk_rows=5)
    # five finished at the same step: two groups of two in the next two steps; the fifth
    # waits for a group (or for the batch to be idle) and no review is of one bulk draft
    # while the batch runs
    assert len({engine.last.joined_at[key] for key in engine.last.joined_at}) == 1
    first = min(steps)
    assert sorted(steps) == [first, first, first + 1, first + 1, busy]
    assert calls == [2, 2, 2]  # the last: the fifth with the interactive variant, when idle


def test_a_bulk_variant_waits_for_its_group_no_longer_than_the_review_wait(cast, make, told,
                                                                           monkeypatch):
    monkeypatch.setattr(pipeline_worker, "BULK_REVIEW_GROUP", 8)
    monkeypatch.setattr(pipeline_worker, "BULK_REVIEW_WAIT", 0.0)
    steps, busy, calls, _ = _review_steps(cast, make, bulk_rows=2, tokens=[5, 9])
    assert steps == [5, 9] and busy == 30 and calls == [1, 1, 1]  # each at once: waited enough
