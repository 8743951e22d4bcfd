"""A worker that starts (after a crash, a deploy, a reboot) moves on every unfinished run."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_ready

log = logging.getLogger(__name__)


@worker_ready.connect
def resume_runs_on_worker_start(**kwargs: Any) -> None:
    from copywriter.bulk.tasks import resume_stalled

    # A task, not a call here: the main process of a prefork worker should not hold database
    # connections that its children inherit.
    resume_stalled.apply_async(queue="default")
