"""Celery task, routed to ``WEBHOOK_QUEUE`` (``webhooks.*`` in CELERY_TASK_ROUTES). Ids in;
idempotent (``services.attempt`` claims each try with a lease on the row)."""

from __future__ import annotations

from celery import shared_task

from copywriter.webhooks import services


@shared_task(name="webhooks.deliver")
def deliver(message_id: int) -> str:
    """One try; another is published with the backoff when this one may pass later. The retry
    policy lives here and in ``services.attempt``: Celery's own retry is not used, so a test can
    call this function directly."""
    outcome = services.attempt(message_id=message_id)
    if outcome.retry_in is not None:
        services.enqueue(message_id, countdown=outcome.retry_in)
    return outcome.status
