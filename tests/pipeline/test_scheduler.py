"""Which queued rows a worker takes: interactive before bulk, bulk within its share, workspaces in
turns; the static scheduler's arrival order for the bench's baseline."""

from __future__ import annotations

import pytest

from copywriter.generation.models import Generation, Status
from copywriter.pipeline import scheduler


@pytest.fixture
def make(queued_job):
    return queued_job


def _claim(capacity, **kw):
    return scheduler.claim(me="host:1", queue="cpu", capacity=capacity, **kw)


def test_interactive_rows_go_before_older_bulk_rows(cast, make):
    bulk = [make(cast.bob_m, bulk=True) for _ in range(6)]
    mine = make(cast.alice_m)
    capacity = scheduler.Capacity(total=4, bulk_share=0.75)
    taken = _claim(capacity)
    # alone: bulk rows prefilled in the same forward would delay its first token
    assert [(g.pk, kind) for g, kind in taken] == [(mine.pk, "interactive")]
    taken += _claim(capacity)  # the next claim, a step later
    assert [g.pk for g, _ in taken] == [mine.pk, bulk[0].pk, bulk[1].pk, bulk[2].pk]
    assert [kind for _, kind in taken] == ["interactive", "bulk", "bulk", "bulk"]
    assert all(g.status == Status.RUNNING and g.claimed_by == "host:1" for g, _ in taken)


def test_bulk_rows_never_take_the_share_kept_for_interactive_work(cast, make):
    for _ in range(10):
        make(cast.bob_m, bulk=True)
    capacity = scheduler.Capacity(total=8, bulk_share=0.75)
    taken = _claim(capacity)
    assert len(taken) == 6  # 8 x 0.75
    assert Generation.objects.filter(status=Status.QUEUED).count() == 4
    # A request that arrives now still finds room in the running batch.
    late = make(cast.alice_m)
    assert [g.pk for g, _ in _claim(capacity)] == [late.pk]
    assert capacity.free("bulk") == 0 and capacity.room() == 1


def test_workspaces_take_turns(cast, make):
    """Alice's burst of five arrived first; Charlie's one row still goes second."""
    burst = [make(cast.alice_m) for _ in range(5)]
    other = make(cast.charlie_m)
    taken = _claim(scheduler.Capacity(total=3, bulk_share=0.75))
    assert [g.pk for g, _ in taken] == [burst[0].pk, other.pk, burst[1].pk]


def test_a_workspace_with_rows_in_the_batch_waits_for_the_others(cast, make):
    make(cast.alice_m)
    other = make(cast.charlie_m)
    capacity = scheduler.Capacity(total=3, bulk_share=0.75, by_workspace={cast.ws.pk: 2})
    assert [g.pk for g, _ in _claim(capacity)][0] == other.pk


def test_the_job_whose_message_arrived_is_taken_first(cast, make):
    older = make(cast.alice_m)
    newer = make(cast.alice_m)
    taken = _claim(scheduler.Capacity(total=1, bulk_share=0.75), first_id=newer.pk)
    assert [g.pk for g, _ in taken] == [newer.pk]
    assert Generation.objects.get(pk=older.pk).status == Status.QUEUED


def test_a_row_too_big_for_the_room_left_waits_while_smaller_ones_go(cast, make):
    big = make(cast.alice_m, variants=3)
    small = make(cast.alice_m, variants=1)
    taken = _claim(scheduler.Capacity(total=4, bulk_share=0.75, running={"interactive": 2}))
    assert [g.pk for g, _ in taken] == [small.pk]
    assert Generation.objects.get(pk=big.pk).status == Status.QUEUED


def test_a_row_bigger_than_the_whole_batch_counts_as_the_batch_and_runs_alone(cast, make):
    """A slot template's items and candidates can outnumber the batch: it must not wait for
    ever; it takes the whole batch."""
    big = make(cast.alice_m, variants=3)
    capacity = scheduler.Capacity(total=2, bulk_share=0.75)
    taken = _claim(capacity)
    assert [g.pk for g, _ in taken] == [big.pk]
    assert capacity.running == {"interactive": 2}


def test_the_static_scheduler_takes_rows_in_arrival_order(cast, make):
    """The bench's baseline: no classes, no turns (bulk rows first because they came first)."""
    bulk = [make(cast.bob_m, bulk=True) for _ in range(3)]
    mine = make(cast.alice_m)
    taken = _claim(scheduler.Capacity(total=3, bulk_share=0.75), fifo=True)
    assert [g.pk for g, _ in taken] == [b.pk for b in bulk]
    assert Generation.objects.get(pk=mine.pk).status == Status.QUEUED


def test_rows_locked_by_another_worker_are_skipped(cast, make, transactional_db):
    """Two workers claiming at once never take the same row (SKIP LOCKED)."""
    import threading

    from django.db import connection, transaction

    rows = [make(cast.alice_m) for _ in range(4)]
    locked = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with transaction.atomic():
            list(Generation.objects.select_for_update().filter(pk__in=[rows[0].pk, rows[1].pk]))
            locked.set()
            release.wait(10)
        connection.close()

    t = threading.Thread(target=hold)
    t.start()
    assert locked.wait(10)
    try:
        taken = _claim(scheduler.Capacity(total=4, bulk_share=0.75))
    finally:
        release.set()
        t.join(10)
    assert [g.pk for g, _ in taken] == [rows[2].pk, rows[3].pk]


def test_an_interactive_job_joins_a_batch_that_bulk_rows_filled(cast, make):
    """Interactive work has the batch's size of places of its own: it never waits for bulk
    rows to finish (the batch grows past its size for it)."""
    mine = make(cast.alice_m, variants=3)
    capacity = scheduler.Capacity(total=8, bulk_share=0.75, running={"bulk": 6, "interactive": 2})
    assert capacity.room() == 0
    assert [g.pk for g, _ in _claim(capacity)] == [mine.pk]


def test_bulk_rows_do_not_take_the_places_an_interactive_job_is_waiting_for(cast, make):
    """At interactive work's own limit, places free up one at a time as rows finish; a
    3-variant request needs three at once. Bulk rows that took each freed place would keep it
    waiting for ever."""
    for _ in range(4):
        make(cast.bob_m, bulk=True)
    mine = make(cast.alice_m, variants=3)
    capacity = scheduler.Capacity(total=8, bulk_share=0.75, running={"interactive": 6})
    assert capacity.free("bulk") == 2  # bulk's share and the room would allow two rows
    assert _claim(capacity) == []  # two places free: the request waits, and so does bulk
    capacity.running["interactive"] = 5  # an interactive row finished: three places free
    assert [g.pk for g, _ in _claim(capacity)] == [mine.pk]


def test_interactive_work_has_places_beyond_the_batch_for_colleagues_requests(cast, make):
    """A search ad is 45 rows; with several batches' worth of interactive places a colleague's
    request starts while the first is still written, and a job larger than the batch counts
    what it is (up to the interactive places), not the batch's size."""
    def ad(gen):
        return 45  # 3 variants x 5 items x 3 candidates

    first = make(cast.alice_m, variants=3)
    second = make(cast.charlie_m, variants=3)
    capacity = scheduler.Capacity(total=32, bulk_share=0.75, interactive=96,
                                  running={"bulk": 24})
    assert [g.pk for g, _ in _claim(capacity, cost=ad)] == [first.pk, second.pk]
    assert capacity.running["interactive"] == 90
    third = make(cast.alice_m, variants=3)
    assert _claim(capacity, cost=ad) == []  # 6 places left: it waits
    capacity.running["interactive"] = 50  # rows of the first two were written meanwhile
    assert [g.pk for g, _ in _claim(capacity, cost=ad)] == [third.pk]
