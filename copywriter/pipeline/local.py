"""The worker path in this process: `generate --local`, `generate_bulk --local`, tests, benches.

Exactly what a Celery worker runs for a delivered job (``tasks.generate``), without the broker
hop: the same scheduler, engine session, review stages, storing and bulk bookkeeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from copywriter.bulk.models import BulkRun, RunStatus
from copywriter.bulk.window import advance
from copywriter.generation import runner
from copywriter.generation.models import Generation, Status


def run_queued(*, engine: Any = None, first_id: int | None = None, me: str | None = None,
               static: bool | None = None, until: Callable[[], bool] | None = None,
               on_store: Callable[[list[int]], None] | None = None) -> int:
    """Serve queued jobs until none is left (or ``until()`` says stop); returns how many were
    stored. ``first_id``: a job to take first, as if its message had just arrived."""
    from django.conf import settings

    from copywriter.pipeline.tasks import pipeline

    me = me or runner.worker_id()
    stored = 0
    while True:
        if first_id is not None:
            outcome = runner.prepare(first_id, me)
            if outcome.wait_seconds:
                time.sleep(min(outcome.wait_seconds, 5.0))  # another live process holds it
                continue
            if outcome.done:
                first_id = None
        stored += pipeline(me=me, engine=engine, static=static, on_store=on_store).run(first_id=first_id)
        first_id = None
        queued = Generation.objects.filter(status=Status.QUEUED, queue=settings.GENERATION_QUEUE)
        if (until is not None and until()) or not queued.exists():
            return stored


def run_bulk(*, run_id: int, engine: Any = None, static: bool | None = None,
             on_progress: Callable[[BulkRun], None] | None = None) -> BulkRun:
    """A bulk run's rows in this process: the run keeps its window of rows queued, and the
    worker path takes them as they come."""

    def finished() -> bool:
        run = advance(run_id=run_id)
        assert run is not None
        if on_progress is not None:
            on_progress(run)
        return run.status != RunStatus.RUNNING and not run.in_flight

    while not finished():
        def progress(pks: list[int]) -> None:
            finished()

        if not run_queued(engine=engine, static=static, until=finished, on_store=progress):
            time.sleep(0.2)  # rows held by another live process: look again shortly
    return BulkRun.objects.get(pk=run_id)
