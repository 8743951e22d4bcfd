"""A worker that starts (after a crash, a deploy, a reboot) moves on every unfinished run; and
what the bulk app tells the apps above it.

``bulk_run_finished`` is sent once a run ends, after the transaction that ended it commits, with
``sender=BulkRun`` and the keyword arguments ``run_id`` and ``status`` (``"done"``: every row was
written, failed or skipped; ``"cancelled"``). Webhooks listen here.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_ready
from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

bulk_run_finished = Signal()


def finished_on_commit(*, sender: type, run_id: int, status: str) -> None:
    def send() -> None:
        for receiver, result in bulk_run_finished.send_robust(sender=sender, run_id=run_id,
                                                               status=status):
            if isinstance(result, Exception):
                log.error("bulk_run_finished receiver %r failed for run %s: %r", receiver, run_id,
                          result)

    transaction.on_commit(send)


@worker_ready.connect
def resume_runs_on_worker_start(**kwargs: Any) -> None:
    from copywriter.bulk.tasks import resume_stalled

    # A task, not a call here: the main process of a prefork worker should not hold database
    # connections that its children inherit.
    resume_stalled.apply_async(queue="default")
