"""Bulk runs: a file of rows, each row one generation (variants=1) through the normal queue.

A run keeps a window of ``BULK_WINDOW`` rows in flight: enough queued jobs that every worker's
batch is full (the runner claims up to a batch of queued jobs at once), few enough that the rest
of the workspace is not starved. ``advance`` is the one place that moves a run on: it records
finished jobs on their rows, tops the window up, and notices a finished run. It runs with the
run's row locked, so calling it twice at once (a worker's hook and a page load, a redelivered
message, a double click) never gives a row a second generation. It is called by the runner
after every batch, by the run page, by the command line and when a worker starts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from copywriter.bulk.models import BulkRow, BulkRun, RowStatus, RunStatus
from copywriter.bulk.parsing import FileProblem, Table, normalise, read_table
from copywriter.catalog.models import Template
from copywriter.catalog.schema import Field, PromptTemplate
from copywriter.facts import services as facts_services
from copywriter.generation.models import Generation
from copywriter.generation.models import Status as GenStatus
from copywriter.generation.services import (
    GenerationError,
    daily_quota_left,
    enqueue,
    generation_create,
    tone_choices,
)
from copywriter.generation.tones import LENGTHS
from copywriter.workspaces.decorators import require_writer
from copywriter.workspaces.models import Membership


class BulkError(Exception):
    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


# --- Mapping and validation ------------------------------------------------------------------

def auto_mapping(*, spec: PromptTemplate, header: list[str]) -> dict[str, int]:
    """Map each template field to the column with the same normalised name (or label)."""
    by_name: dict[str, int] = {}
    for i, column in enumerate(header):
        by_name.setdefault(normalise(column), i)
    mapping = {}
    for f in spec.fields:
        for candidate in (f.name, f.label):
            if normalise(candidate) in by_name:
                mapping[f.name] = by_name[normalise(candidate)]
                break
    return mapping


def clean_mapping(*, spec: PromptTemplate, header: list[str], raw: dict[str, Any]) -> dict[str, int]:
    """A mapping as posted (field -> column index as text, "" for none) checked against the file."""
    mapping = {}
    for f in spec.fields:
        value = raw.get(f.name)
        if value in (None, ""):
            continue
        try:
            index = int(value)
        except (TypeError, ValueError) as exc:
            raise BulkError(f"Choose a column for {f.label} from the list.") from exc
        if not 0 <= index < len(header):
            raise BulkError(f"Choose a column for {f.label} from the list.")
        mapping[f.name] = index
    return mapping


def missing_required(*, spec: PromptTemplate, mapping: dict[str, int]) -> list[Field]:
    return [f for f in spec.fields if f.required and f.name not in mapping]


def row_fields(*, spec: PromptTemplate, mapping: dict[str, int], values: list[str]) -> dict[str, str]:
    return {f.name: (values[mapping[f.name]].strip() if mapping.get(f.name) is not None
                     and mapping[f.name] < len(values) else "") for f in spec.fields}


def row_problem(*, spec: PromptTemplate, width: int, values: list[str],
                fields: dict[str, str]) -> str:
    """Why a row cannot run, or "" when it can."""
    if not any(v.strip() for v in values):
        return "Empty row."
    if len(values) > width and any(v.strip() for v in values[width:]):
        return (f"The row has {len(values)} cells but the header names {width} columns; a value "
                "probably contains an unquoted separator.")
    errors = spec.validate_values(fields)
    return " ".join(errors[f.name] for f in spec.fields if f.name in errors)


def _validate_rows(run: BulkRun, spec: PromptTemplate) -> None:
    rows = list(run.rows.all())
    for row in rows:
        row.fields = row_fields(spec=spec, mapping=run.mapping, values=row.values)
        row.error = row_problem(spec=spec, width=len(run.header), values=row.values,
                                fields=row.fields)
        row.status = RowStatus.INVALID if row.error else RowStatus.PENDING
    BulkRow.objects.bulk_update(rows, ["fields", "error", "status"], batch_size=500)
    _recount(run)


# --- Creating, starting, pausing -------------------------------------------------------------

def _check_writer(membership: Membership) -> None:
    require_writer(membership, BulkError(
        "Viewers cannot run bulk generations; ask an owner for the editor role.", status=403))


def bulk_run_create(*, membership: Membership, template: Template, tone: str, file_name: str,
                    data: bytes, length: str = "medium", mapping: dict[str, int] | None = None,
                    cli_output: str = "", local: bool = False,
                    fact_sheets: Sequence[int | str] = ()) -> BulkRun:
    """Read the file, store every row, map columns by name and validate each row. The run waits
    in ``draft`` until the mapping is confirmed and it is started. ``fact_sheets``: ids of the
    workspace's fact sheets; their latest versions now are given to every row."""
    _check_writer(membership)
    if template.current is None or not template.is_active:
        raise BulkError("This template has no published version.", status=404)
    valid_tones = {key for key, _ in tone_choices(workspace_id=membership.workspace_id)}
    if tone not in valid_tones:
        raise BulkError(f"Unknown tone {tone!r}. Choose one of: {', '.join(sorted(valid_tones))}.")
    if length not in LENGTHS:
        raise BulkError(f"Length must be one of {', '.join(LENGTHS)}.")
    try:
        facts = facts_services.snapshot(facts_services.versions_for_generation(
            workspace_id=membership.workspace_id, sheet_ids=fact_sheets))
    except facts_services.FactsError as exc:
        raise BulkError(exc.message, status=exc.status) from None
    try:
        table: Table = read_table(data, filename=file_name, max_rows=settings.BULK_MAX_ROWS,
                                  max_bytes=settings.BULK_MAX_BYTES,
                                  max_columns=settings.BULK_MAX_COLUMNS)
    except FileProblem as exc:
        raise BulkError(exc.message, status=413 if "limit" in exc.message else 400) from exc
    spec = template.spec()
    with transaction.atomic():
        run = BulkRun.objects.create(
            workspace=membership.workspace, created_by=membership.user, template=template,
            template_version=template.current, tone=tone, length=length, header=table.header,
            file_name=file_name[:255], file_format=table.file_format, file_notes=table.notes,
            source_hash=hashlib.sha256(data).hexdigest(), cli_output=cli_output, local=local,
            facts=facts,
            mapping=mapping if mapping is not None else auto_mapping(spec=spec,
                                                                     header=table.header),
            total=len(table.rows))
        BulkRow.objects.bulk_create(
            [BulkRow(run=run, index=i, values=values) for i, values in enumerate(table.rows, 1)],
            batch_size=500)
        _validate_rows(run, spec)
        run.save()
    return run


def bulk_run_map(*, membership: Membership, run: BulkRun, mapping: dict[str, int]) -> BulkRun:
    _check_writer(membership)
    with transaction.atomic():
        run = BulkRun.objects.select_for_update().get(pk=run.pk)
        if run.status != RunStatus.DRAFT:
            raise BulkError("This run has started; its columns can no longer be changed.",
                            status=409)
        run.mapping = mapping
        _validate_rows(run, run.template_version.spec())
        run.save()
    return run


def bulk_run_start(*, membership: Membership, run: BulkRun) -> BulkRun:
    _check_writer(membership)
    spec = run.template_version.spec()
    missing = missing_required(spec=spec, mapping=run.mapping)
    if missing:
        raise BulkError("Choose a column for " + ", ".join(f.label for f in missing)
                        + ": the template needs it.")
    with transaction.atomic():
        locked = BulkRun.objects.select_for_update().get(pk=run.pk)
        if locked.status == RunStatus.DRAFT:
            if not locked.rows.filter(status=RowStatus.PENDING).exists():
                raise BulkError("No row is valid, so there is nothing to run. Fix the file or the "
                                "column mapping.")
            locked.status, locked.started_at = RunStatus.RUNNING, timezone.now()
            locked.save(update_fields=["status", "started_at"])
    return advance(run_id=run.pk) or run


def bulk_run_pause(*, membership: Membership, run: BulkRun) -> BulkRun:
    """Stop queueing rows; the ones already being written finish."""
    _check_writer(membership)
    BulkRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(status=RunStatus.PAUSED)
    return advance(run_id=run.pk) or run


def bulk_run_resume(*, membership: Membership, run: BulkRun) -> BulkRun:
    _check_writer(membership)
    BulkRun.objects.filter(pk=run.pk, status=RunStatus.PAUSED).update(status=RunStatus.RUNNING,
                                                                      notice="")
    return advance(run_id=run.pk) or run


def bulk_run_cancel(*, membership: Membership, run: BulkRun) -> BulkRun:
    """Cancel the queued jobs and skip the rows not written yet; rows being written right now
    finish and keep their text."""
    _check_writer(membership)
    now = timezone.now()
    with transaction.atomic():
        run = BulkRun.objects.select_for_update().get(pk=run.pk)
        if run.status in (RunStatus.DONE, RunStatus.CANCELLED):
            return run
        queued = run.rows.filter(status=RowStatus.QUEUED, generation__status=GenStatus.QUEUED)
        Generation.objects.filter(pk__in=queued.values("generation_id"),
                                  status=GenStatus.QUEUED).update(status=GenStatus.CANCELLED,
                                                                  finished_at=now)
        run.rows.filter(status=RowStatus.PENDING).update(
            status=RowStatus.SKIPPED, error="Cancelled before it was written.", updated_at=now)
        run.status, run.finished_at = RunStatus.CANCELLED, now
        _sync(run)
        _recount(run)
        run.save()
    return run


# --- Moving a run on -------------------------------------------------------------------------

def advance(*, run_id: int, kick: bool = False) -> BulkRun | None:
    """Record finished rows, top the window up, re-publish stalled jobs, notice the end."""
    with transaction.atomic():
        run = BulkRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            return None
        _sync(run)
        if run.status == RunStatus.RUNNING:
            _top_up(run)
        _recount(run)
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


def _sync(run: BulkRun) -> None:
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
            if exc.status == 429:  # the quota ran out during this top-up
                run.notice = exc.message
                break
            details = " ".join(exc.field_errors.values())
            row.status, row.error = RowStatus.INVALID, f"{exc.message} {details}".strip()
        else:
            row.generation, row.status, row.error = gen, RowStatus.QUEUED, ""
        row.updated_at = timezone.now()
        row.save(update_fields=["generation", "status", "error", "updated_at"])


def _recount(run: BulkRun) -> None:
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


# --- Single rows -----------------------------------------------------------------------------

def row_edit(*, membership: Membership, row: BulkRow, text: str) -> BulkRow:
    _check_writer(membership)
    if row.status != RowStatus.DONE:
        raise BulkError("Only a written row can be edited.", status=409)
    if len(text) > settings.BULK_MAX_RESULT_CHARS:
        raise BulkError(f"The text is {len(text):,} characters long; the limit is "
                        f"{settings.BULK_MAX_RESULT_CHARS:,}.")
    row.result_text, row.edited, row.updated_at = text, True, timezone.now()
    row.save(update_fields=["result_text", "edited", "updated_at"])
    return row


def row_regenerate(*, membership: Membership, row: BulkRow) -> BulkRow:
    """Write one row again. A second click while it is being written does nothing."""
    _check_writer(membership)
    with transaction.atomic():
        BulkRun.objects.select_for_update().get(pk=row.run_id)
        row = BulkRow.objects.select_for_update().select_related("run__template").get(pk=row.pk)
        if row.status == RowStatus.QUEUED:
            return row
        if row.status not in (RowStatus.DONE, RowStatus.FAILED, RowStatus.SKIPPED):
            raise BulkError("This row cannot be written: fix its input and upload it again.",
                            status=409)
        run = row.run
        try:
            gen = generation_create(membership=membership, template=run.template,
                                    fields=row.fields, tone=run.tone, variants=1,
                                    length=run.length, enqueue_job=not run.local,
                                    retry_of=row.generation, facts_snapshot=run.facts)
        except GenerationError as exc:
            raise BulkError(exc.message, status=exc.status) from exc
        row.generation, row.status, row.error = gen, RowStatus.QUEUED, ""
        row.updated_at = timezone.now()
        row.save(update_fields=["generation", "status", "error", "updated_at"])
        BulkRun.objects.filter(pk=run.pk).update(in_flight=run.rows.filter(
            status=RowStatus.QUEUED).count())
    return row
