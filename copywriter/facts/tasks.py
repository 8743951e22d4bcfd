"""Celery tasks, routed to the generation queue (``facts.*`` in CELERY_TASK_ROUTES): embedding
needs the workers that have torch. Ids (or a cache key) in; idempotent."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="facts.embed_version", bind=True, max_retries=3)
def embed_version(self, version_id: int) -> str:  # type: ignore[no-untyped-def]
    from copywriter.facts.services import version_embed

    try:
        return version_embed(version_id=version_id)
    except Exception as exc:
        log.exception("embedding fact sheet version %s failed", version_id)
        raise self.retry(countdown=10, exc=exc) from exc


@shared_task(name="facts.embed_query")
def embed_query(key: str) -> str:
    from copywriter.facts.services import query_embed

    return query_embed(key=key)
