from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copywriter.audit.services import record
from copywriter.bulk import exports, selectors, services
from copywriter.bulk.errors import BulkError
from copywriter.bulk.mapping import clean_mapping, missing_required
from copywriter.bulk.models import BulkRun, RowStatus, RunStatus
from copywriter.bulk.window import advance
from copywriter.catalog.models import Template
from copywriter.catalog.schema import PromptError
from copywriter.core.htmx import render_poll
from copywriter.facts.views import choices_context
from copywriter.generation.services import tone_choices
from copywriter.generation.tones import LENGTHS
from copywriter.workspaces.decorators import workspace_member
from copywriter.workspaces.types import MemberRequest

POLL_OVERLAP_SECONDS = 10


def _templates(ws: int) -> list[Template]:
    return list(Template.objects.filter(is_active=True, current__isnull=False)
                .filter(workspace__isnull=True).order_by("category", "title")) + list(
        Template.objects.filter(is_active=True, current__isnull=False, workspace_id=ws)
        .order_by("title"))


@workspace_member()
@require_GET
def runs(request: MemberRequest) -> HttpResponse:
    items = selectors.runs_for_workspace(workspace_id=request.membership.workspace_id)[:100]
    return render(request, "bulk/list.html", {"runs": items})


@workspace_member()
@require_http_methods(["GET", "POST"])
def upload(request: MemberRequest) -> HttpResponse:
    ws = request.membership.workspace_id
    form: dict[str, Any] = {"template": request.POST.get("template", request.GET.get("template", "")),
                            "tone": request.POST.get("tone", "neutral"),
                            "length": request.POST.get("length", "medium")}
    error, status = "", 200
    if request.method == "POST":
        template = next((t for t in _templates(ws) if str(t.pk) == form["template"]), None)
        upload_file = request.FILES.get("file")
        if template is None:
            error = "Choose a template."
        elif upload_file is None:
            error = "Choose a CSV or XLSX file to upload."
        elif upload_file.size and upload_file.size > settings.BULK_MAX_BYTES:
            error = (f"The file is {upload_file.size / 1_000_000:.1f} MB; the limit is "
                     f"{settings.BULK_MAX_BYTES / 1_000_000:.1f} MB. Split it into smaller files.")
            status = 413
        else:
            try:
                run = services.bulk_run_create(
                    membership=request.membership, template=template, tone=form["tone"],
                    length=form["length"], file_name=upload_file.name or "upload.csv",
                    data=upload_file.read(settings.BULK_MAX_BYTES + 1),
                    fact_sheets=request.POST.getlist("fact_sheets"))
            except BulkError as exc:
                error, status = exc.message, exc.status
            else:
                return redirect("bulk:run", ws=ws, run_id=run.pk)
        status = status if status != 200 else 400
    return render(request, "bulk/upload.html", {
        "templates": _templates(ws), "tones": tone_choices(workspace_id=ws),
        "lengths": list(LENGTHS), "form": form, "error": error,
        "max_rows": settings.BULK_MAX_ROWS, "max_mb": settings.BULK_MAX_BYTES / 1_000_000,
        **choices_context(workspace_id=ws, brief="", ticked=request.POST.getlist("fact_sheets"),
                          suggested=False), "fact_static": True},
        status=status)


def _mapping_context(run: BulkRun, error: str = "") -> dict[str, Any]:
    spec = run.template_version.spec()
    missing = missing_required(spec=spec, mapping=run.mapping)
    preview = []
    for row in run.rows.filter(status=RowStatus.PENDING).order_by("index")[:3]:
        try:
            prompt = spec.render(row.fields)
        except PromptError as exc:
            prompt = f"(This row does not fit the prompt: {exc}.)"
        preview.append({"row": row, "prompt": prompt})
    problems = list(run.rows.filter(status=RowStatus.INVALID).order_by("index")[:100])
    fields = [{"field": f, "column": run.mapping.get(f.name)} for f in spec.fields]
    return {"run": run, "fields": fields, "columns": list(enumerate(run.header)),
            "missing": missing, "preview": preview, "problems": problems, "error": error,
            "valid": run.total - run.invalid}


@workspace_member()
@require_GET
def run_detail(request: MemberRequest, run_id: int) -> HttpResponse:
    ws = request.membership.workspace_id
    run = selectors.run_get(workspace_id=ws, run_id=run_id)
    if run.status == RunStatus.DRAFT:
        return render(request, "bulk/mapping.html", _mapping_context(run))
    # Loading or polling the page moves the run on too: a run whose worker died resumes here.
    run = advance(run_id=run.pk) or run
    now = timezone.now()
    # The next poll asks for rows changed since a little before now: a row whose transaction
    # committed just after this read still reaches the page (sending a row twice is harmless).
    context = {"run": run, "progress": selectors.run_progress(run=run),
               "now": now.timestamp() - POLL_OVERLAP_SECONDS}
    if request.htmx and request.htmx.target == "bulk-progress":
        try:
            since = dt.datetime.fromtimestamp(float(request.GET.get("since", "0")), tz=dt.UTC)
        except (ValueError, OverflowError, OSError):
            since = now
        context["changed"] = list(run.rows.filter(updated_at__gte=since).order_by("index")[:200])
        return render_poll(request, "bulk/run.html#progress", context, done=not run.is_active)
    context["rows"] = list(run.rows.order_by("index")[:settings.BULK_MAX_ROWS])
    return render(request, "bulk/run.html", context)


@workspace_member()
@require_POST
def mapping(request: MemberRequest, run_id: int) -> HttpResponse:
    ws = request.membership.workspace_id
    run = selectors.run_get(workspace_id=ws, run_id=run_id)
    if run.status != RunStatus.DRAFT:
        return redirect("bulk:run", ws=ws, run_id=run.pk)
    spec = run.template_version.spec()
    raw = {f.name: request.POST.get(f"map_{f.name}", "") for f in spec.fields}
    try:
        run = services.bulk_run_map(membership=request.membership, run=run,
                                    mapping=clean_mapping(spec=spec, header=run.header, raw=raw))
        if request.POST.get("action") == "start":
            services.bulk_run_start(membership=request.membership, run=run)
            return redirect("bulk:run", ws=ws, run_id=run.pk)
    except BulkError as exc:
        context = _mapping_context(run, exc.message)
        if request.htmx:
            return render(request, "bulk/mapping.html#preview", context, status=exc.status)
        return render(request, "bulk/mapping.html", context, status=exc.status)
    if request.htmx:
        return render(request, "bulk/mapping.html#preview", _mapping_context(run))
    return render(request, "bulk/mapping.html", _mapping_context(run))


def _control(request: MemberRequest, run_id: int, action: Any, done: str) -> HttpResponse:
    ws = request.membership.workspace_id
    run = selectors.run_get(workspace_id=ws, run_id=run_id)
    try:
        action(membership=request.membership, run=run)
    except BulkError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("bulk:run", ws=ws, run_id=run.pk)


@workspace_member()
@require_POST
def pause(request: MemberRequest, run_id: int) -> HttpResponse:
    return _control(request, run_id, services.bulk_run_pause,
                    "Paused: the rows being written now finish, no new rows start.")


@workspace_member()
@require_POST
def resume(request: MemberRequest, run_id: int) -> HttpResponse:
    return _control(request, run_id, services.bulk_run_resume, "Resumed.")


@workspace_member()
@require_POST
def cancel(request: MemberRequest, run_id: int) -> HttpResponse:
    return _control(request, run_id, services.bulk_run_cancel,
                    "Cancelled: rows not written yet are skipped; written rows are kept.")


@workspace_member()
@require_GET
def download(request: MemberRequest, run_id: int, fmt: str) -> HttpResponse:
    run = selectors.run_get(workspace_id=request.membership.workspace_id, run_id=run_id)
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", run.file_name.rsplit(".", 1)[0])[:80] or "bulk"
    if fmt == "csv":
        response = HttpResponse(exports.to_csv(run), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(
            exports.to_xlsx(run),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        raise Http404("Unknown format")
    record(workspace=request.membership.workspace_id, actor=request.user, action="bulk.exported",
           target=run, summary=f"downloaded the results of {run.file_name!r} as {fmt}",
           details={"format": fmt, "rows": run.total})
    response["Content-Disposition"] = f'attachment; filename="{stem}-generated.{fmt}"'
    return response


@workspace_member()
@require_POST
def row_edit(request: MemberRequest, run_id: int, index: int) -> HttpResponse:
    ws = request.membership.workspace_id
    row = selectors.row_get(workspace_id=ws, run_id=run_id, index=index)
    text = request.POST.get("text", "")
    try:
        row = services.row_edit(membership=request.membership, row=row, text=text)
    except BulkError as exc:
        # Keep what was typed: it comes back in the form with the reason.
        context = {"run": row.run, "row": row, "draft": text, "error": exc.message}
        if request.htmx:
            return render(request, "bulk/run.html#row", context, status=exc.status)
        return render(request, "bulk/row_edit.html", context, status=exc.status)
    if request.htmx:
        return render(request, "bulk/run.html#row", {"run": row.run, "row": row, "saved": True})
    messages.success(request, f"Row {row.index} saved.")
    return redirect("bulk:run", ws=ws, run_id=run_id)


@workspace_member()
@require_POST
def row_regenerate(request: MemberRequest, run_id: int, index: int) -> HttpResponse:
    ws = request.membership.workspace_id
    row = selectors.row_get(workspace_id=ws, run_id=run_id, index=index)
    try:
        services.row_regenerate(membership=request.membership, row=row)
    except BulkError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Row {row.index} is being written again.")
    return redirect("bulk:run", ws=ws, run_id=run_id)
