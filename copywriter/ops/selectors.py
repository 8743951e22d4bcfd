"""Task metrics from the rows the jobs write (Generation, BrandVoice): no separate metrics store.

Counts are "now" for queued and running, and "finished in the window" for done, failed and
cancelled. Durations are PostgreSQL ``percentile_cont`` over the window's finished rows:
``queue wait`` = started - created, ``run`` = finished - started (a generation's started_at is
set when a worker first claims it, so a retried job's wait includes its earlier attempts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from copywriter.generation.models import Generation, Status
from copywriter.voices.models import BrandVoice


class Percentile(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(%(p)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()

    def __init__(self, expression: object, p: float) -> None:
        super().__init__(expression, p=float(p))  # type: ignore[arg-type]


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 2)


@dataclass
class Durations:
    n: int
    p50: float | None
    p95: float | None


@dataclass
class KindMetrics:
    kind: str
    queued: int
    running: int
    done: int
    failed: int
    cancelled: int
    oldest_queued_seconds: float | None
    run: Durations
    wait: Durations

    @property
    def failure_rate(self) -> float | None:
        finished = self.done + self.failed
        return round(self.failed / finished, 3) if finished else None


def _durations(rows: QuerySet, start: str, end: str) -> Durations:  # type: ignore[type-arg]
    expr = ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    agg = rows.filter(**{f"{start}__isnull": False, f"{end}__isnull": False}).aggregate(
        n=Count("pk"), p50=Percentile(expr, 0.5), p95=Percentile(expr, 0.95))
    return Durations(n=agg["n"], p50=_seconds(agg["p50"]), p95=_seconds(agg["p95"]))


def generation_metrics(*, workspace_id: int | None, since: datetime,
                       queue: str | None = None) -> KindMetrics:
    rows = Generation.objects.all()
    if workspace_id is not None:
        rows = rows.filter(workspace_id=workspace_id)
    if queue is not None:
        rows = rows.filter(queue=queue)
    recent = Q(finished_at__gte=since)
    counts = rows.aggregate(
        queued=Count("pk", filter=Q(status=Status.QUEUED)),
        running=Count("pk", filter=Q(status=Status.RUNNING)),
        done=Count("pk", filter=Q(status=Status.DONE) & recent),
        failed=Count("pk", filter=Q(status=Status.FAILED) & recent),
        cancelled=Count("pk", filter=Q(status=Status.CANCELLED) & recent))
    oldest = rows.filter(status=Status.QUEUED).order_by("created_at").values_list(
        "created_at", flat=True).first()
    finished = rows.filter(status=Status.DONE, finished_at__gte=since)
    return KindMetrics(
        kind="Generations", **counts,
        oldest_queued_seconds=_seconds(timezone.now() - oldest) if oldest else None,
        run=_durations(finished, "started_at", "finished_at"),
        wait=_durations(rows.filter(started_at__gte=since), "created_at", "started_at"))


def voice_metrics(*, workspace_id: int | None, since: datetime) -> KindMetrics:
    """Brand-voice training rows keep created/updated only: ``run`` is created -> ready
    (queue wait included), and there is no separate wait figure."""
    rows = BrandVoice.objects.all()
    if workspace_id is not None:
        rows = rows.filter(workspace_id=workspace_id)
    recent = Q(updated_at__gte=since)
    counts = rows.aggregate(
        queued=Count("pk", filter=Q(status="queued")),
        running=Count("pk", filter=Q(status="training")),
        done=Count("pk", filter=Q(status="ready") & recent),
        failed=Count("pk", filter=Q(status="failed") & recent),
        cancelled=Count("pk", filter=Q(status="cancelled") & recent))
    oldest = rows.filter(status="queued").order_by("created_at").values_list(
        "created_at", flat=True).first()
    return KindMetrics(
        kind="Brand-voice trainings", **counts,
        oldest_queued_seconds=_seconds(timezone.now() - oldest) if oldest else None,
        run=_durations(rows.filter(status="ready", updated_at__gte=since), "created_at",
                       "updated_at"),
        wait=Durations(0, None, None))


def task_metrics(*, workspace_id: int | None, hours: int = 24) -> list[KindMetrics]:
    since = timezone.now() - timedelta(hours=hours)
    return [generation_metrics(workspace_id=workspace_id, since=since),
            voice_metrics(workspace_id=workspace_id, since=since)]


def queue_metrics(*, hours: int = 24) -> list[tuple[str, KindMetrics]]:
    """Generations per queue (cpu, gpu ...), for the staff view."""
    since = timezone.now() - timedelta(hours=hours)
    queues = Generation.objects.values_list("queue", flat=True).distinct().order_by("queue")
    return [(q, generation_metrics(workspace_id=None, since=since, queue=q)) for q in queues]


def busiest_workspaces(*, hours: int = 24, limit: int = 10) -> list[dict[str, Any]]:
    since = timezone.now() - timedelta(hours=hours)
    return [dict(row) for row in Generation.objects.filter(created_at__gte=since)
                .values("workspace_id", "workspace__name")
                .annotate(n=Count("pk"), failed=Count("pk", filter=Q(status=Status.FAILED)))
                .order_by("-n")[:limit]]

