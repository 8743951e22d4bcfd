from __future__ import annotations

from celery import shared_task

from copywriter.bulk import window


@shared_task(name="bulk.top_up")
def top_up(run_id: int) -> str:
    """Move one run on (record finished rows, queue the next ones). Idempotent."""
    run = window.advance(run_id=run_id)
    return run.status if run is not None else "gone"


@shared_task(name="bulk.resume_stalled")
def resume_stalled() -> int:
    """Re-publish the queued jobs of every unfinished run; a second delivery is harmless."""
    return window.resume_stalled(kick=True)
