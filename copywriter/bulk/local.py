"""Running a bulk run's rows in this process (``generate_bulk --local``, tests, the bench).

The rows go through the worker's own path: ``runner.claim`` takes a batch of queued jobs and
``runner.run_batch`` writes them, then calls the bulk hook that records them and queues the next
rows. Only the Celery hop is missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from copywriter.bulk.models import BulkRow, BulkRun, RowStatus, RunStatus
from copywriter.bulk.services import advance
from copywriter.generation.models import Status as GenStatus


def run_local(*, run_id: int, engine: Any = None,
              on_progress: Callable[[BulkRun], None] | None = None) -> BulkRun:
    from copywriter.generation import runner

    me = runner.worker_id()
    while True:
        run = advance(run_id=run_id)
        assert run is not None
        if on_progress is not None:
            on_progress(run)
        if run.status != RunStatus.RUNNING and not run.in_flight:
            return run
        gen_id = (BulkRow.objects.filter(run_id=run_id, status=RowStatus.QUEUED)
                  .exclude(generation__status__in=[GenStatus.DONE, GenStatus.FAILED,
                                                   GenStatus.CANCELLED])
                  .order_by("index").values_list("generation_id", flat=True).first())
        if gen_id is None:
            continue  # finished between the two reads: advance records it
        outcome, batch = runner.claim(gen_id, me)
        if batch:
            runner.run_batch(batch, me, engine=engine)
        elif not outcome.done:
            time.sleep(min(outcome.wait_seconds, 5.0))  # another live process holds it
