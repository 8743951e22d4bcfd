"""The workflow's pages: the panel the document page loads (htmx), its actions, the comments of
one version, "Waiting for me", the workspace's settings and each member's email choices.

Every refusal is the service's ``WorkflowError`` shown where the member looks: inside the panel
for htmx requests (status 400, which htmx swaps in), on the panel's own page otherwise (with the
error's status: 400 not now, 403 not you)."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copywriter.audit import services as audit
from copywriter.core.spreadsheet import escape_formula
from copywriter.documents import selectors as document_selectors
from copywriter.documents.models import Document
from copywriter.documents.services import EXPORT_FORMATS, export_document
from copywriter.workflow import services
from copywriter.workflow.models import Approvers, State
from copywriter.workspaces.decorators import workspace_member
from copywriter.workspaces.models import Membership, Role
from copywriter.workspaces.types import MemberRequest


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _ints(values: list[str]) -> list[int]:
    out = []
    for v in values:
        n = _int_or_none(v)
        if n is None:
            raise services.WorkflowError("Choose reviewers from the list.",
                                         field_errors={"reviewers": "Not a member."})
        out.append(n)
    return out


def _panel_context(request: MemberRequest, doc: Document, **extra: Any) -> dict[str, Any]:
    membership = request.membership
    ws_settings = services.settings_for(membership.workspace_id)
    st = services.state_of(doc)
    return {
        "document": doc, "st": st, "ws_settings": ws_settings,
        "actions": services.allowed_actions(membership, st, ws_settings),
        "pending": services.pending_requests(doc),
        "approvers": services.approvers(membership.workspace_id),
        "threads": services.comment_threads(doc),
        "approved": services.frozen_version(doc, "approved"),
        "published": services.frozen_version(doc, "published"),
        "states": State, **extra,
    }


def _panel(request: MemberRequest, doc: Document, *, status: int = 200,
           **extra: Any) -> HttpResponse:
    context = _panel_context(request, doc, **extra)
    template = "workflow/panel.html" if request.htmx else "workflow/panel_page.html"
    response = render(request, template, context, status=status)
    if request.method == "POST" and request.htmx:
        response["HX-Trigger"] = "workflow-changed"  # the nav's "Waiting for me" count reloads
    return response


def _document(request: MemberRequest, document_id: int) -> Document:
    return document_selectors.document_get(workspace_id=request.membership.workspace_id,
                                           document_id=document_id)


@workspace_member()
@require_GET
def panel(request: MemberRequest, document_id: int) -> HttpResponse:
    return _panel(request, _document(request, document_id))


def _act(request: MemberRequest, document_id: int, action: Any, done: str) -> HttpResponse:
    doc = _document(request, document_id)
    try:
        action(doc)
    except services.WorkflowError as exc:
        status = 400 if request.htmx else exc.status
        return _panel(request, doc, status=status, error=exc.message,
                      field_errors=exc.field_errors, form=request.POST)
    doc.refresh_from_db()
    if request.htmx:
        return _panel(request, doc, notice=done)
    messages.success(request, done)
    number = _int_or_none(request.POST.get("version"))
    if request.POST.get("back") == "version" and number is not None:
        return redirect("documents:version", ws=request.membership.workspace_id,
                        document_id=doc.pk, number=number)
    return redirect("documents:edit", ws=request.membership.workspace_id, document_id=doc.pk)


@workspace_member()
@require_POST
def request_review(request: MemberRequest, document_id: int) -> HttpResponse:
    def action(doc: Document) -> None:
        services.request_review(membership=request.membership, document_id=doc.pk,
                                reviewer_ids=_ints(request.POST.getlist("reviewers")),
                                comment=request.POST.get("comment", ""))
    return _act(request, document_id, action, "Review requested.")


@workspace_member()
@require_POST
def approve(request: MemberRequest, document_id: int) -> HttpResponse:
    def action(doc: Document) -> None:
        services.approve(membership=request.membership, document_id=doc.pk,
                         comment=request.POST.get("comment", ""))
    return _act(request, document_id, action, "Approved.")


@workspace_member()
@require_POST
def request_changes(request: MemberRequest, document_id: int) -> HttpResponse:
    def action(doc: Document) -> None:
        services.request_changes(membership=request.membership, document_id=doc.pk,
                                 comment=request.POST.get("comment", ""))
    return _act(request, document_id, action, "Changes requested.")


@workspace_member()
@require_POST
def publish(request: MemberRequest, document_id: int) -> HttpResponse:
    def action(doc: Document) -> None:
        services.publish(membership=request.membership, document_id=doc.pk)
    return _act(request, document_id, action, "Published.")


@workspace_member()
@require_POST
def comment_create(request: MemberRequest, document_id: int) -> HttpResponse:
    def action(doc: Document) -> None:
        passage = request.POST.get("passage") == "1"
        quote = request.POST.get("quote", "")
        if passage and not quote.strip():
            raise services.WorkflowError("Select a passage in the text first, then write your "
                                         "comment.", field_errors={"quote": "Nothing selected."})
        services.comment_create(
            membership=request.membership, document_id=doc.pk,
            body=request.POST.get("body", ""),
            version=_int_or_none(request.POST.get("version")),
            parent_id=_int_or_none(request.POST.get("parent")), quote=quote,
            start=_int_or_none(request.POST.get("start")),
            end=_int_or_none(request.POST.get("end")))
    return _act(request, document_id, action, "Comment added.")


@workspace_member()
@require_POST
def comment_resolve(request: MemberRequest, document_id: int, comment_id: int) -> HttpResponse:
    reopen = request.POST.get("reopen") == "1"

    def action(doc: Document) -> None:
        services.comment_resolve(membership=request.membership, document_id=doc.pk,
                                 comment_id=comment_id, resolved=not reopen)
    return _act(request, document_id, action, "Reopened." if reopen else "Resolved.")


@workspace_member()
@require_GET
def version_comments(request: MemberRequest, document_id: int, number: int) -> HttpResponse:
    """The comments made on one version (shown on that version's page), with a form for a
    comment on a passage of its text."""
    doc = _document(request, document_id)
    version = document_selectors.version_get(document=doc, number=number)
    st = services.state_of(doc)
    return render(request, "workflow/version_comments.html", {
        "document": doc, "version": version, "threads": services.comment_threads(
            doc, version=number), "st": st,
        "frozen": number in (st.approved_version, st.published_version)})


@workspace_member()
@require_GET
def export_version(request: MemberRequest, document_id: int, number: int,
                   fmt: str) -> HttpResponse:
    """Any version as Markdown, HTML or text: the approved and published ones stay exportable
    after later edits."""
    doc = _document(request, document_id)
    version = document_selectors.version_get(document=doc, number=number)
    if fmt not in EXPORT_FORMATS:
        raise Http404("Export as md, html or txt.")
    content, content_type, ext = export_document(Document(title=version.title,
                                                          body=version.body), fmt)
    audit.record(workspace=request.membership.workspace, actor=request.user,
                 action="document.exported", target=doc,
                 summary=f"exported version {number} of \u201c{doc.title}\u201d as {ext}",
                 details={"version": number, "format": ext})
    response = HttpResponse(content, content_type=content_type)
    name = slugify(version.title) or f"document-{doc.pk}"
    response["Content-Disposition"] = f'attachment; filename="{name}-v{number}.{ext}"'
    return response


@workspace_member()
@require_GET
def export_released(request: MemberRequest) -> HttpResponse:
    """Every approved (or published) version of the workspace in one zip, one file a document
    plus manifest.csv, taken from the workflow's record: never a draft, never a later edit."""
    which, fmt = request.GET.get("which", "approved"), request.GET.get("fmt", "md")
    if fmt not in EXPORT_FORMATS:
        return HttpResponse("Export as md, html or txt.", status=400, content_type="text/plain")
    try:
        released = services.released_versions(request.membership, which)
    except services.WorkflowError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain")
    buffer, names = io.BytesIO(), set()
    rows = [["file", "document", "title", "version", "state", "edited_since"]]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for doc, version in released:
            content, _, ext = export_document(Document(title=version.title, body=version.body), fmt)
            stem = slugify(version.title)[:60] or f"document-{doc.pk}"
            name = f"{stem}-v{version.number}.{ext}"
            if name in names:
                name = f"{stem}-{doc.pk}-v{version.number}.{ext}"
            names.add(name)
            archive.writestr(name, content)
            rows.append([name, str(doc.pk), version.title, str(version.number),
                         doc.workflow_state.state, "yes" if doc.head_number > version.number else "no"])
        manifest = io.StringIO()
        csv.writer(manifest).writerows([[escape_formula(c) for c in row] for row in rows])
        archive.writestr("manifest.csv", manifest.getvalue())
    audit.record(workspace=request.membership.workspace, actor=request.user,
                 action="documents.exported", summary=f"exported the {which} versions of "
                 f"{len(released)} document{'s' if len(released) != 1 else ''} as {fmt} (zip)",
                 details={"which": which, "format": fmt, "documents": len(released)})
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{which}-documents.zip"'
    return response


@workspace_member()
@require_GET
def waiting(request: MemberRequest) -> HttpResponse:
    requests = list(services.waiting_for(request.membership))
    return render(request, "workflow/waiting.html", {"requests": requests, "nav": "waiting"})


@workspace_member()
@require_GET
def waiting_count(request: MemberRequest) -> HttpResponse:
    """The nav link's badge (loaded by htmx: cached pages would show a stale count)."""
    count = services.waiting_for(request.membership).count()
    url = reverse("workflow:waiting_count", args=[request.membership.workspace_id])
    attrs = (f'id="waiting-count" hx-get="{url}" hx-trigger="workflow-changed from:body" '
             'hx-swap="outerHTML"')
    html = (f'<span class="badge" {attrs} aria-label="{count} waiting">{count}</span>'
            if count else f"<span {attrs}></span>")
    return HttpResponse(html)


@workspace_member(Role.OWNER, write_methods_need=Role.OWNER)
@require_http_methods(["GET", "POST"])
def settings_page(request: MemberRequest) -> HttpResponse:
    membership = request.membership
    members = (Membership.objects.filter(workspace_id=membership.workspace_id)
               .select_related("user").order_by("user__email"))
    context: dict[str, Any] = {"members": [m for m in members if m.can_write],
                               "approver_choices": Approvers.choices, "nav": "settings"}
    status = 200
    if request.method == "POST":
        try:
            services.settings_update(
                membership=membership, approvers=request.POST.get("approvers", ""),
                reviewer_ids=_ints(request.POST.getlist("reviewers")),
                publish_needs_approval=request.POST.get("publish_needs_approval") == "on",
                approval_needs_clean_style=request.POST.get("approval_needs_clean_style") == "on")
        except services.WorkflowError as exc:
            context |= {"error": exc.message, "field_errors": exc.field_errors}
            status = exc.status
        else:
            messages.success(request, "Workflow settings saved.")
            return redirect("workflow:settings", ws=membership.workspace_id)
    ws_settings = services.settings_for(membership.workspace_id)
    context |= {"ws_settings": ws_settings,
                "reviewer_ids": services.named_reviewer_ids(ws_settings)}
    return render(request, "workflow/settings.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        services.preferences_update(user=user,  # type: ignore[arg-type]
                                    **{k: request.POST.get(k) == "on"
                                       for k in services.NOTIFICATION_KINDS})
        messages.success(request, "Email choices saved.")
        return redirect("workflow:notifications")
    return render(request, "workflow/notifications.html",
                  {"prefs": services.preferences_for(user)})  # type: ignore[arg-type]

