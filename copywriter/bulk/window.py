"""The run window: moving a bulk run on.

A run keeps a window of ``BULK_WINDOW`` rows in flight: enough queued jobs that every worker's
batch is full (the runner claims up to a batch of queued jobs at once), few enough that the rest
of the workspace is not starved. ``advance`` is the one place that moves a run on: it records
finished jobs on their rows, tops the window up, and notices a finished run. It runs with the
run's row locked, so calling it twice at once (a worker's hook and a page load, a redelivered
message, a double click) never gives a row a second generation. It is called by the runner
after every batch, by the run page, by the command line and when a worker starts.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from copywriter.bulk.models import BulkRow, BulkRun, RowStatus, RunStatus
from copywriter.bulk.signals import finished_on_commit
from copywriter.generation.models import Generation
from copywriter.generation.models import Status as GenStatus
from copywriter.generation.services import GenerationError, daily_quota_left, enqueue, generation_create
from copywriter.workspaces.models import Membership


def advance(*, run_id: int, kick: bool = False) -> BulkRun | None:
    """Record finished rows, top the window up, re-publish stalled jobs, notice the end."""
    with transaction.atomic():
        run = BulkRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            return None
        sync(run)
        if run.status == RunStatus.RUNNING:
            _top_up(run)
        recount(run)
        _kick_stalled(run, force=kick)
        run.save()
    return run


def generations_finished(*, generation_ids: list[int]) -> None:
    """The runner's hook: some jobs ended; move on the runs they belong to."""
    run_ids = set(BulkRow.objects.filter(generation_id__in=generation_ids)
                  .values_list("run_id", flat=True))
    for run_id in sorted(run_ids):
        advance(run_id=run_id)


def resume_stalled(*, kick: bool = True) -> int:
    """After a restart: move on every run that is running or has rows in flight."""
    ids = list(BulkRun.objects.filter(Q(status=RunStatus.RUNNING) | Q(in_flight__gt=0), local=False)
               .values_list("pk", flat=True))
    for run_id in ids:
        advance(run_id=run_id, kick=kick)
    return len(ids)


def sync(run: BulkRun) -> None:
    """Record the jobs that ended on their rows."""
    now = timezone.now()
    changed = []
    rows = (run.rows.filter(status=RowStatus.QUEUED).select_related("generation")
            .prefetch_related("generation__results"))
    for row in rows:
        gen = row.generation
        if gen is None:  # the job was deleted: write the row again
            row.status = RowStatus.PENDING
        elif gen.status == GenStatus.DONE:
            variant = next(iter(gen.results.all()), None)
            row.status, row.error, row.edited = RowStatus.DONE, "", False
            row.result_text = variant.text if variant else ""
            row.originality = variant.originality if variant else None
        elif gen.status == GenStatus.FAILED:
            row.status, row.error = RowStatus.FAILED, gen.error or "The writer failed."
        elif gen.status == GenStatus.CANCELLED:
            row.status, row.error = RowStatus.SKIPPED, "Cancelled."
        else:
            continue
        row.updated_at = row.finished_at = now
        changed.append(row)
    if changed:
        BulkRow.objects.bulk_update(changed, ["status", "error", "edited", "result_text",
                                              "originality", "updated_at", "finished_at"])
        run.progress_at = now


def _writer(run: BulkRun) -> Membership | None:
    if run.created_by_id is None:
        return None
    m = (Membership.objects.select_related("workspace", "user")
         .filter(workspace_id=run.workspace_id, user_id=run.created_by_id).first())
    return m if m is not None and m.can_write else None


QUOTA_NOTICE = ("The workspace used its daily generation quota; the remaining rows wait and "
                "continue by themselves after midnight UTC.")


def _top_up(run: BulkRun) -> None:
    in_flight = run.rows.filter(status=RowStatus.QUEUED).count()
    room = settings.BULK_WINDOW - in_flight
    if room <= 0:
        return
    quota = daily_quota_left(workspace_id=run.workspace_id)
    if quota <= 0:
        run.notice = QUOTA_NOTICE
        return
    rows = list(run.rows.select_for_update(skip_locked=True).filter(status=RowStatus.PENDING)
                .order_by("index")[:room])
    if not rows:
        return
    membership = _writer(run)
    if membership is None:
        run.status = RunStatus.PAUSED
        run.notice = ("The person who started this run can no longer write in this workspace. "
                      "An editor can start a new run with the same file.")
        return
    template = run.template
    run.notice = ""
    for row in rows:
        if quota <= 0:
            run.notice = QUOTA_NOTICE
            break
        quota -= 1
        try:
            gen = generation_create(membership=membership, template=template, fields=row.fields,
                                    tone=run.tone, variants=1, length=run.length,
                                    per_minute_limit=False, enqueue_job=not run.local,
                                    facts_snapshot=run.facts)
        except GenerationError as exc:
            if not exc.permanent:  # the quota ran out during this top-up: the rows wait
                run.notice = exc.message
                break
            details = " ".join(exc.field_errors.values())
            row.status, row.error = RowStatus.INVALID, f"{exc.message} {details}".strip()
        else:
            row.generation, row.status, row.error = gen, RowStatus.QUEUED, ""
        row.updated_at = timezone.now()
        row.save(update_fields=["generation", "status", "error", "updated_at"])


def recount(run: BulkRun) -> None:
    """The run's counts from its rows; a running run with nothing left to write is done."""
    counts = run.rows.aggregate(
        total=Count("pk"), done=Count("pk", filter=Q(status=RowStatus.DONE)),
        failed=Count("pk", filter=Q(status=RowStatus.FAILED)),
        invalid=Count("pk", filter=Q(status=RowStatus.INVALID)),
        skipped=Count("pk", filter=Q(status=RowStatus.SKIPPED)),
        in_flight=Count("pk", filter=Q(status=RowStatus.QUEUED)),
        pending=Count("pk", filter=Q(status=RowStatus.PENDING)))
    pending = counts.pop("pending")
    for key, value in counts.items():
        setattr(run, key, value)
    if run.status == RunStatus.RUNNING and not pending and not run.in_flight:
        run.status, run.finished_at, run.notice = RunStatus.DONE, timezone.now(), ""
        finished_on_commit(sender=BulkRun, run_id=run.pk, status=RunStatus.DONE.value)


def _kick_stalled(run: BulkRun, *, force: bool) -> None:
    """Re-publish the jobs of rows in flight when nothing finished for a while (a lost message,
    a restarted broker). Safe: the runner's claim makes a second delivery of a job a no-op."""
    if run.local or not run.in_flight:
        return
    now = timezone.now()
    last = max(t for t in (run.progress_at, run.kicked_at, run.started_at, run.created_at) if t)
    if not force and now - last < timedelta(seconds=settings.BULK_STALL_SECONDS):
        return
    gens = Generation.objects.filter(bulk_rows__run=run, bulk_rows__status=RowStatus.QUEUED).filter(
        Q(status=GenStatus.QUEUED) | Q(status=GenStatus.RUNNING, lease_until__lt=now))
    for gen in gens:
        enqueue(gen)
    run.kicked_at = now

