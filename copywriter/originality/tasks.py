"""Celery tasks: ids in, idempotent (a redelivered task finds the work done or redoes it whole).
Routed to the generation queue (``originality.*`` in CELERY_TASK_ROUTES): embedding needs the
workers that have torch."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from copywriter.documents.models import DocumentVersion

log = logging.getLogger(__name__)


@shared_task(name="originality.index_document", bind=True, max_retries=3)
def index_document(self, document_id: int) -> str:  # type: ignore[no-untyped-def]
    from copywriter.originality import indexing

    try:
        return indexing.index_document(document_id)
    except Exception as exc:
        log.exception("indexing document %s failed", document_id)
        raise self.retry(countdown=10, exc=exc) from exc


@shared_task(name="originality.index_reference", bind=True, max_retries=3)
def index_reference(self, reference_id: int) -> str:  # type: ignore[no-untyped-def]
    from copywriter.originality import indexing
    from copywriter.originality.models import ReferenceItem

    try:
        return indexing.index_reference(reference_id)
    except Exception as exc:
        log.exception("indexing reference %s failed", reference_id)
        if self.request.retries >= self.max_retries:
            ReferenceItem.objects.filter(pk=reference_id).update(
                index_error=f"Indexing failed: {exc.__class__.__name__}: {exc}")
            return "failed"
        raise self.retry(countdown=10, exc=exc) from exc


@shared_task(name="originality.check_document", bind=True, max_retries=2)
def check_document(self, check_id: int) -> str:  # type: ignore[no-untyped-def]
    """Run an on-demand check. A check already done or failed is left alone."""
    from copywriter.originality import search
    from copywriter.originality.models import CheckStatus, OriginalityCheck

    check = OriginalityCheck.objects.filter(pk=check_id).first()
    if check is None or check.status in (CheckStatus.DONE, CheckStatus.FAILED):
        return "done"
    OriginalityCheck.objects.filter(pk=check_id).update(status=CheckStatus.RUNNING,
                                                        started_at=timezone.now())
    version = DocumentVersion.objects.filter(document_id=check.document_id,
                                             number=check.document_version).first()
    if version is None:
        OriginalityCheck.objects.filter(pk=check_id).update(
            status=CheckStatus.FAILED, finished_at=timezone.now(),
            error="The document version to check no longer exists.")
        return "failed"
    try:
        report = search.check_text(workspace_id=check.workspace_id, text=version.body,
                                   exclude=search.Exclude(document_id=check.document_id))
    except Exception as exc:
        log.exception("originality check %s failed", check_id)
        if self.request.retries < self.max_retries:
            raise self.retry(countdown=5, exc=exc) from exc
        OriginalityCheck.objects.filter(pk=check_id).update(
            status=CheckStatus.FAILED, finished_at=timezone.now(),
            error=f"The check failed: {exc.__class__.__name__}. Try again in a minute.")
        return "failed"
    OriginalityCheck.objects.filter(pk=check_id).update(
        status=CheckStatus.DONE, report=report, finished_at=timezone.now(), error="")
    return report["verdict"]
