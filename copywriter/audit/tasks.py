"""The daily prune (``CELERY_BEAT_SCHEDULE["audit-prune"]``); ``manage.py prune_audit`` does
the same from a cron job where no beat runs. Idempotent: a second run finds nothing to delete."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="audit.prune")
def prune() -> int:
    from copywriter.audit.services import prune as prune_events

    return prune_events()
