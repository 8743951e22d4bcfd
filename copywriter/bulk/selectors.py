from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from copywriter.bulk.models import BulkRow, BulkRun


def runs_for_workspace(*, workspace_id: int) -> QuerySet[BulkRun]:
    return (BulkRun.objects.filter(workspace_id=workspace_id)
            .select_related("template", "created_by").order_by("-created_at"))


def run_get(*, workspace_id: int, run_id: int) -> BulkRun:
    return get_object_or_404(BulkRun.objects.select_related("template", "template_version"),
                             workspace_id=workspace_id, pk=run_id)


def row_get(*, workspace_id: int, run_id: int, index: int) -> BulkRow:
    return get_object_or_404(BulkRow.objects.select_related("run"), run__workspace_id=workspace_id,
                             run_id=run_id, index=index)


def run_progress(*, run: BulkRun) -> dict[str, Any]:
    """Counts, rows per minute since the start, and the time left at that rate."""
    finished = run.done + run.failed
    to_write = run.remaining
    elapsed = 0.0
    if run.started_at:
        end = run.finished_at if run.finished_at and not run.in_flight else timezone.now()
        elapsed = max(0.0, (end - run.started_at).total_seconds())
    rate = finished / (elapsed / 60) if elapsed >= 1 and finished else 0.0
    eta = to_write / rate * 60 if rate and to_write else None
    runnable = run.total - run.invalid
    return {"finished": finished, "remaining": to_write, "runnable": runnable,
            "percent": round(100 * (finished + run.skipped) / runnable) if runnable else 100,
            "rate": round(rate, 1), "eta_seconds": round(eta) if eta is not None else None}
