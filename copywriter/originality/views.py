from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copywriter.core.htmx import render_poll
from copywriter.documents import selectors as document_selectors
from copywriter.documents.models import DocumentVersion
from copywriter.originality import services
from copywriter.originality.models import OriginalityCheck, ReferenceItem, Regenerate
from copywriter.originality.text import Thresholds
from copywriter.workspaces.decorators import workspace_member
from copywriter.workspaces.models import Role
from copywriter.workspaces.types import MemberRequest

MAX_FILES = 20


def _check_context(request: MemberRequest, check: OriginalityCheck) -> dict[str, object]:
    version = DocumentVersion.objects.filter(document_id=check.document_id,
                                             number=check.document_version).first()
    return {"check": check, "document": check.document, "checked_text": version.body if version else "",
            "nav": "documents"}


@workspace_member(write_methods_need=Role.VIEWER)
@require_POST
def document_check(request: MemberRequest, document_id: int) -> HttpResponse:
    """Start a check of the document's saved version. Reading a document is enough to check it:
    the check changes nothing."""
    doc = document_selectors.document_get(workspace_id=request.membership.workspace_id,
                                          document_id=document_id)
    try:
        check = services.document_check_request(membership=request.membership, document=doc)
    except services.OriginalityError as exc:
        if request.htmx:
            return render(request, "originality/check.html#error", {"error": exc.message},
                          status=exc.status)
        messages.error(request, exc.message)
        return redirect("documents:edit", ws=request.membership.workspace_id, document_id=doc.pk)
    if request.htmx:
        return render(request, "originality/check.html#check", _check_context(request, check))
    return redirect("originality:check_detail", ws=request.membership.workspace_id,
                    check_id=check.pk)


@workspace_member()
@require_GET
def check_detail(request: MemberRequest, check_id: int) -> HttpResponse:
    check = get_object_or_404(OriginalityCheck.objects.select_related("document"), pk=check_id,
                              workspace_id=request.membership.workspace_id)
    context = _check_context(request, check)
    if request.htmx and request.htmx.target == "originality-check":
        return render_poll(request, "originality/check.html#check", context,
                           done=not check.is_active)
    return render(request, "originality/check.html", context)


def _visible_references(workspace_id: int) -> Q:
    return Q(workspace_id=workspace_id) | Q(workspace__isnull=True)


@workspace_member()
@require_http_methods(["GET", "POST"])
def references(request: MemberRequest) -> HttpResponse:
    """The reference texts compared against: this workspace's (add by pasting or uploading .txt
    / .md files) and the global ones an administrator imported."""
    ws = request.membership.workspace_id
    errors: list[str] = []
    status = 200
    title = request.POST.get("title", "")
    pasted = request.POST.get("text", "")
    if request.method == "POST":
        files = request.FILES.getlist("files")
        if not pasted.strip() and not files:
            errors.append("Paste a text or choose one or more .txt or .md files.")
        if len(files) > MAX_FILES:
            errors.append(f"Upload at most {MAX_FILES} files at a time.")
        texts: list[tuple[str, str, str]] = []  # (title, text, file name)
        if not errors:
            if pasted.strip():
                texts.append((title, pasted, ""))
            for f in files:
                try:
                    body = services.decode_upload(f.name or "file", f.read(services.MAX_UPLOAD_BYTES + 1))
                except services.OriginalityError as exc:
                    errors.append(exc.message)
                    status = max(status, exc.status)
                    continue
                texts.append(("" if pasted.strip() or len(files) > 1 else title, body, f.name or ""))
        created: list[ReferenceItem] = []
        if not errors:
            try:
                for t, body, name in texts:
                    services.clean_reference(t, body, name=name)  # every one valid, or none stored
                for t, body, name in texts:
                    item = services.reference_create(workspace=request.membership.workspace,
                                                     membership=request.membership, title=t,
                                                     text=body, source_name=name)
                    services.reference_schedule_index(item)
                    created.append(item)
            except services.OriginalityError as exc:
                errors.append(exc.message)
                status = max(status, exc.status)
        if not errors:
            messages.success(request, f"Added {len(created)} reference text"
                                      f"{'' if len(created) == 1 else 's'}; "
                                      "they are compared against once indexed (a few seconds).")
            return redirect("originality:references", ws=ws)
        status = max(status, 400)
    items = (ReferenceItem.objects.filter(_visible_references(ws))
             .order_by("workspace_id", "-created_at").select_related("created_by"))
    own = [i for i in items if i.workspace_id == ws]
    shared = [i for i in items if i.workspace_id is None]
    return render(request, "originality/references.html", {
        "own": own, "shared": shared, "errors": errors, "title": title, "text": pasted,
        "nav": "settings", "max_files": MAX_FILES}, status=status)


@workspace_member()
@require_GET
def reference(request: MemberRequest, reference_id: int) -> HttpResponse:
    item = get_object_or_404(ReferenceItem,
                             _visible_references(request.membership.workspace_id), pk=reference_id)
    return render(request, "originality/reference.html", {"item": item, "nav": "settings"})


@workspace_member()
@require_POST
def reference_delete(request: MemberRequest, reference_id: int) -> HttpResponse:
    item = get_object_or_404(ReferenceItem,
                             _visible_references(request.membership.workspace_id), pk=reference_id)
    try:
        services.reference_delete(membership=request.membership, item=item)
    except services.OriginalityError as exc:
        messages.error(request, exc.message)
        return redirect("originality:reference", ws=request.membership.workspace_id,
                        reference_id=item.pk)
    messages.success(request, f"Deleted the reference text \u201c{item.title}\u201d.")
    return redirect("originality:references", ws=request.membership.workspace_id)


def _float(value: str, label: str, errors: list[str]) -> float:
    try:
        return float(value.replace(",", "."))
    except (TypeError, ValueError):
        errors.append(f"{label} must be a number such as 0.82.")
        return 0.0


@workspace_member(write_methods_need=Role.OWNER)
@require_http_methods(["GET", "POST"])
def settings_view(request: MemberRequest) -> HttpResponse:
    """Thresholds and what happens to flagged variants. Everyone sees them; owners change them."""
    ws = request.membership.workspace_id
    current = services.settings_get(workspace_id=ws)
    errors: list[str] = []
    form = {"paraphrase_threshold": str(current.paraphrase_threshold),
            "copy_threshold": str(current.copy_threshold),
            "check_generations": current.check_generations, "regenerate": current.regenerate,
            "max_regenerations": str(current.max_regenerations)}
    status = 200
    if request.method == "POST":
        form = {"paraphrase_threshold": request.POST.get("paraphrase_threshold", "").strip(),
                "copy_threshold": request.POST.get("copy_threshold", "").strip(),
                "check_generations": request.POST.get("check_generations") == "on",
                "regenerate": request.POST.get("regenerate", ""),
                "max_regenerations": request.POST.get("max_regenerations", "").strip()}
        para = _float(str(form["paraphrase_threshold"]), "The similarity threshold", errors)
        cov = _float(str(form["copy_threshold"]), "The verbatim-overlap threshold", errors)
        raw_max = str(form["max_regenerations"])
        max_regen = int(raw_max) if raw_max.isdigit() else -1
        if max_regen < 0:
            errors.append("Regenerations must be a whole number from 0 to "
                          f"{services.MAX_REGENERATIONS}.")
        if not errors:
            try:
                services.settings_update(membership=request.membership, paraphrase_threshold=para,
                                         copy_threshold=cov,
                                         check_generations=bool(form["check_generations"]),
                                         regenerate=str(form["regenerate"]),
                                         max_regenerations=max_regen)
            except services.OriginalityError as exc:
                errors.append(exc.message)
                status = exc.status
        if not errors:
            messages.success(request, "Saved the originality settings.")
            return redirect("originality:settings", ws=ws)
        status = max(status, 400)
    return render(request, "originality/settings.html", {
        "form": form, "errors": errors, "defaults": Thresholds(), "choices": Regenerate.choices,
        "max_allowed": services.MAX_REGENERATIONS, "nav": "settings", "saved": current.pk is not None,
    }, status=status)
