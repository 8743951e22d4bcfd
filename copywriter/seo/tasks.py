"""Celery tasks, routed to the generation queue (``seo.*`` in CELERY_TASK_ROUTES): KeyBERT needs
the embedding model, which only the workers load."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="seo.suggest", bind=True, max_retries=1)
def suggest(self, key: str) -> str:  # type: ignore[no-untyped-def]
    """Idempotent: the inputs and the answer live in the cache under ``key`` (a hash of them)."""
    from copywriter.seo.services import suggestions_compute

    return suggestions_compute(key=key)
