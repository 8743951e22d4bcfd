"""Which queued generations a worker takes next.

Interactive jobs (the web form, the API, SEO enrichment) come before bulk rows and have places
of their own (``interactive``, several batches' worth: a search ad's items and their candidates
are 45 rows), so a request that arrives while a 400-row run is in flight, or while colleagues'
requests run, joins at the next step; bulk rows fill the capacity that interactive work leaves,
up to a share of the batch. The worker counts the rows each job has in the batch before every
claim (a slot job's rows leave as its items are written), not what the job once asked for.
Within each class, workspaces take turns (round-robin, the workspace with the fewest rows
already in the batch first, then the one waiting longest), so no team's burst starves another's.

Rows are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` and a lease naming this process,
(``generation.runner.prepare`` returns a dead worker's rows to the queue): several workers on several machines
share the queue without taking the same row twice, and a dead worker's rows go back after its
lease.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from copywriter.bulk.models import BulkRow
from copywriter.generation.models import Generation, Status
from copywriter.generation.runner import LEASE_SECONDS

INTERACTIVE, BULK = "interactive", "bulk"


@dataclass
class Capacity:
    """Free sequences (variant rows) in the running batch, per class of work."""

    total: int  # sequences the batch may hold
    bulk_share: float  # at most this share of ``total`` for bulk rows
    interactive: int = 0  # places of interactive work's own (0: ``total``)
    running: dict[str, int] = field(default_factory=dict)  # class -> sequences in the batch
    by_workspace: dict[int, int] = field(default_factory=dict)  # workspace -> sequences

    def room(self) -> int:
        """Places left below ``total`` (what bulk rows, and the static scheduler, may fill)."""
        return max(0, self.total - sum(self.running.values()))

    def free(self, kind: str) -> int:
        """Interactive jobs have ``interactive`` places of their own: one that arrives while
        bulk rows fill the batch joins at the next step (the batch grows past ``total`` for it)
        instead of waiting for rows to finish. Bulk rows fill what is left below ``total``, at
        most ``bulk_share`` of it."""
        if kind == INTERACTIVE:
            return max(0, (self.interactive or self.total) - self.running.get(INTERACTIVE, 0))
        return max(0, min(self.room(), int(self.total * self.bulk_share) - self.running.get(BULK, 0)))


def _round_robin(rows: Iterable[Generation], by_workspace: dict[int, int],
                 cost: Callable[[Generation], int]) -> list[Generation]:
    """Interleave workspaces: each turn takes the oldest row of the workspace with the fewest
    sequences in the batch so far (ties: the one whose oldest row waited longest)."""
    queues: dict[int, list[Generation]] = defaultdict(list)
    for row in rows:  # arrive oldest first
        queues[row.workspace_id].append(row)
    load = dict(by_workspace)
    order: list[Generation] = []
    while queues:
        ws = min(queues, key=lambda w: (load.get(w, 0), queues[w][0].created_at))
        row = queues[ws].pop(0)
        order.append(row)
        load[ws] = load.get(ws, 0) + cost(row)
        if not queues[ws]:
            del queues[ws]
    return order


def claim(*, me: str, queue: str, capacity: Capacity, first_id: int | None = None,
          candidates: int = 64, fifo: bool = False,
          cost: Callable[[Generation], int] | None = None) -> list[tuple[Generation, str]]:
    """Claim queued rows that fit ``capacity``: (generation, class) in admission order.

    ``cost``: the sequences a generation puts in the batch (default: one per variant; the
    worker counts slot items and best-of-N candidates), at most its class's places so that a
    job larger than them still runs, alone.

    ``first_id``: the job whose task message started this worker; it is taken first if it is
    still queued (its class's share permitting), so redelivery keeps its meaning.
    ``fifo``: the static scheduler's order (arrival order, no classes, no turns), kept for the
    serving bench's baseline."""
    now = timezone.now()
    lease = now + timedelta(seconds=LEASE_SECONDS)
    costs: dict[int, int] = {}

    def size(gen: Generation) -> int:
        if gen.pk not in costs:
            most = capacity.total if getattr(gen, "is_bulk", False) or fifo else (
                capacity.interactive or capacity.total)
            costs[gen.pk] = max(1, min(most, cost(gen) if cost else gen.variants))
        return costs[gen.pk]

    taken: list[tuple[Generation, str]] = []
    is_bulk = Exists(BulkRow.objects.filter(generation_id=OuterRef("pk")))
    with transaction.atomic():
        base = (Generation.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("template_version").filter(status=Status.QUEUED, queue=queue))
        interactive_waiting = False
        for only in ((None,) if fifo else (INTERACTIVE, BULK)):
            if only == BULK and interactive_waiting:
                # An interactive job is waiting for room (its variants join together): bulk rows
                # must not take the places that free up one by one, or it waits for ever.
                break
            if only == BULK and taken:
                # Interactive rows prefill at the next step; bulk rows joining them would make
                # that prefill (their first token) longer. Bulk rows go at the next claim.
                break
            rows = base.annotate(is_bulk=is_bulk)
            if only is not None:
                if capacity.free(only) <= 0:
                    continue
                rows = rows.filter(is_bulk=(only == BULK))
            picked = list(rows.order_by("created_at")[:candidates])
            head = [g for g in picked if g.pk == first_id]
            rest = [g for g in picked if g.pk != first_id]
            ordered = head + (rest if fifo else _round_robin(rest, capacity.by_workspace, size))
            for gen in ordered:
                kind = BULK if getattr(gen, "is_bulk", False) else INTERACTIVE
                limit = capacity.room() if fifo else capacity.free(kind)
                if size(gen) > limit:
                    # A row that does not fit waits; a smaller one behind it may still fit.
                    interactive_waiting |= kind == INTERACTIVE
                    continue
                taken.append((gen, kind))
                capacity.running[kind] = capacity.running.get(kind, 0) + size(gen)
                capacity.by_workspace[gen.workspace_id] = (
                    capacity.by_workspace.get(gen.workspace_id, 0) + size(gen))
        for gen, _ in taken:
            gen.status, gen.claimed_by, gen.lease_until = Status.RUNNING, me, lease
            gen.attempts += 1
            gen.started_at = gen.started_at or now
        Generation.objects.bulk_update([g for g, _ in taken],
                                       ["status", "claimed_by", "lease_until", "attempts", "started_at"])
    return taken
