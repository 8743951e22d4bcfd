"""Bulk runs: a file of rows, each row one generation (variants=1) through the normal queue.

The run's lifecycle: created from a file (every row stored, mapped and validated), started,
paused, resumed, cancelled; single rows edited or written again. Moving a started run on is the
run window's (``window.advance``); which column feeds which field is ``mapping``'s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from copywriter.bulk import window
from copywriter.bulk.errors import BulkError
from copywriter.bulk.mapping import auto_mapping, missing_required, row_fields, row_problem
from copywriter.bulk.models import BulkRow, BulkRun, RowStatus, RunStatus
from copywriter.bulk.parsing import FileProblem, Table, read_table
from copywriter.bulk.signals import finished_on_commit
from copywriter.catalog.models import Template
from copywriter.catalog.schema import PromptTemplate
from copywriter.facts import services as facts_services
from copywriter.generation.models import Generation
from copywriter.generation.models import Status as GenStatus
from copywriter.generation.services import GenerationError, generation_create, tone_choices
from copywriter.generation.tones import LENGTHS
from copywriter.workspaces.decorators import require_writer
from copywriter.workspaces.models import Membership


def _validate_rows(run: BulkRun, spec: PromptTemplate) -> None:
    rows = list(run.rows.all())
    for row in rows:
        row.fields = row_fields(spec=spec, mapping=run.mapping, values=row.values)
        row.error = row_problem(spec=spec, width=len(run.header), values=row.values,
                                fields=row.fields)
        row.status = RowStatus.INVALID if row.error else RowStatus.PENDING
    BulkRow.objects.bulk_update(rows, ["fields", "error", "status"], batch_size=500)
    window.recount(run)


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
        raise BulkError(exc.message, status=exc.status, permanent=exc.permanent) from None
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
    return window.advance(run_id=run.pk) or run


def bulk_run_pause(*, membership: Membership, run: BulkRun) -> BulkRun:
    """Stop queueing rows; the ones already being written finish."""
    _check_writer(membership)
    BulkRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(status=RunStatus.PAUSED)
    return window.advance(run_id=run.pk) or run


def bulk_run_resume(*, membership: Membership, run: BulkRun) -> BulkRun:
    _check_writer(membership)
    BulkRun.objects.filter(pk=run.pk, status=RunStatus.PAUSED).update(status=RunStatus.RUNNING,
                                                                      notice="")
    return window.advance(run_id=run.pk) or run


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
        finished_on_commit(sender=BulkRun, run_id=run.pk, status=RunStatus.CANCELLED.value)
        window.sync(run)
        window.recount(run)
        run.save()
    return run


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
            raise BulkError(exc.message, status=exc.status, permanent=exc.permanent) from exc
        row.generation, row.status, row.error = gen, RowStatus.QUEUED, ""
        row.updated_at = timezone.now()
        row.save(update_fields=["generation", "status", "error", "updated_at"])
        BulkRun.objects.filter(pk=run.pk).update(in_flight=run.rows.filter(
            status=RowStatus.QUEUED).count())
    return row
