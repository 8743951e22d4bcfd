"""The generation task: what a worker does when a job's message arrives."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import shared_task
from django.conf import settings

from copywriter.claims.review import ClaimsStage
from copywriter.generation import runner
from copywriter.originality.review import OriginalityStage
from copywriter.style.review import StyleStage

log = logging.getLogger(__name__)


def stages() -> list:  # type: ignore[type-arg]
    """The review stages every variant passes, in order. House style first: the kept attempt
    is the best by every stage's rank in this order, and a banned term outranks the others'
    finer scores (style ranks only by banned terms, so the others decide between clean ones)."""
    return [StyleStage(), OriginalityStage(), ClaimsStage()]


def pipeline(*, me: str, engine: object = None, static: bool | None = None,  # type: ignore[no-untyped-def]
             on_store: Callable[[list[int]], None] | None = None):
    from copywriter.ml.engine import get_engine
    from copywriter.pipeline.worker import Pipeline

    return Pipeline(
        me=me, queue=settings.GENERATION_QUEUE, engine=engine or get_engine(), stages=stages(),
        capacity=settings.GENERATION_BATCH_SEQUENCES, bulk_share=settings.GENERATION_BULK_SHARE,
        interactive=settings.GENERATION_INTERACTIVE_SEQUENCES,
        # Stop taking new rows in time to finish the batch within Celery's soft limit; the
        # queued rows' own messages start the next run.
        max_seconds=settings.CELERY_TASK_SOFT_TIME_LIMIT / 2,
        static=settings.GENERATION_SCHEDULER == "static" if static is None else static,
        on_store=on_store, slots=settings.GENERATION_SLOTS,
        item_rounds=settings.GENERATION_ITEM_ROUNDS,
        item_candidates=settings.GENERATION_ITEM_CANDIDATES)


@shared_task(name="generation.generate", bind=True, max_retries=None)
def generate(self, generation_id: int) -> str:  # type: ignore[no-untyped-def]
    """Serve this job and whatever else is queued. Redelivery: a job that is done returns; one
    under a live worker's lease retries after it; a dead worker's job is taken over. Retry
    policy lives here."""
    me = runner.worker_id()
    outcome = runner.prepare(generation_id, me)
    if outcome.done:
        return "done"
    if outcome.wait_seconds:
        raise self.retry(countdown=outcome.wait_seconds)
    try:
        worker = pipeline(me=me)
    except Exception as exc:  # the model or a stage could not load: nothing was claimed
        log.exception("the worker could not start its pipeline")
        runner.attempt_failed(generation_id, f"The writer failed: {exc.__class__.__name__}: {exc}")
        raise self.retry(countdown=2, exc=exc, max_retries=runner.MAX_ATTEMPTS) from exc
    try:
        stored = worker.run(first_id=generation_id)
    except Exception as exc:
        from celery.exceptions import SoftTimeLimitExceeded

        if isinstance(exc, SoftTimeLimitExceeded):
            return "timeout"
        raise self.retry(countdown=2, exc=exc, max_retries=runner.MAX_ATTEMPTS) from exc
    return f"stored {stored}"
