from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from copywriter.audit.services import record
from copywriter.core import pagecache, scopes
from copywriter.documents import selectors, services
from copywriter.documents.forms import DocumentForm
from copywriter.documents.models import DocumentVersion
from copywriter.workspaces.decorators import workspace_member
from copywriter.workspaces.types import MemberRequest


def _document_scopes(request: MemberRequest, **kwargs: object) -> list[str]:
    return [scopes.documents(request.membership.workspace_id), scopes.PEOPLE]


@workspace_member()
@require_GET
@pagecache.cached_page(_document_scopes)
def document_list(request: MemberRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:200]
    sort = request.GET.get("sort", "updated")
    docs = selectors.documents_for_workspace(workspace_id=request.membership.workspace_id, q=q,
                                             sort=sort, excerpt_chars=160)
    context = {"documents": docs[:200], "q": q, "sort": sort, "sorts": selectors.SORTS}
    if request.htmx and request.htmx.target == "document-results":
        return render(request, "documents/list.html#results", context)
    return render(request, "documents/list.html", context)


@workspace_member()
@require_GET
def trash(request: MemberRequest) -> HttpResponse:
    docs = selectors.documents_for_workspace(workspace_id=request.membership.workspace_id,
                                             trashed=True)
    return render(request, "documents/trash.html", {"documents": docs[:500]})


@workspace_member()
@require_POST
def create(request: MemberRequest) -> HttpResponse:
    title = request.POST.get("title", "")
    body = request.POST.get("body", "")
    try:
        doc = services.document_create(membership=request.membership, title=title, body=body)
    except services.DocumentTooLarge as exc:
        return HttpResponse(exc.message, status=413)
    return redirect("documents:edit", ws=request.membership.workspace_id, document_id=doc.pk)


@workspace_member()
@require_GET
@pagecache.cached_page(_document_scopes)
def edit(request: MemberRequest, document_id: int) -> HttpResponse:
    doc = selectors.document_get(workspace_id=request.membership.workspace_id,
                                 document_id=document_id)
    return render(request, "documents/edit.html", {"document": doc})


@workspace_member()
@require_POST
def save(request: MemberRequest, document_id: int) -> HttpResponse:
    """Autosave (htmx) and plain form save. 409 on a stale base, with both texts shown."""
    doc = selectors.document_get(workspace_id=request.membership.workspace_id,
                                 document_id=document_id)
    form = DocumentForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("The save was missing its version number: reload the page "
                                      "(your text is still in the editor; copy it first).")
    try:
        result = services.document_save(membership=request.membership, document_id=doc.pk,
                                        title=form.cleaned_data["title"],
                                        body=form.cleaned_data["body"],
                                        base_number=form.cleaned_data["base_number"])
    except services.DocumentTooLarge as exc:
        context = {"document": doc, "error": exc.message}
        return render(request, "documents/edit.html#save-status", context, status=413)
    if result.conflict:
        head = selectors.head_version(document=result.document)
        context = {"document": result.document, "head": head, "mine": result.version,
                   "diff": selectors.line_diff(head.body, result.version.body)}
        if request.htmx:
            response = render(request, "documents/edit.html#conflict", context, status=409)
            response["HX-Retarget"] = "#conflict"
            response["HX-Reswap"] = "innerHTML"
            return response
        return render(request, "documents/edit.html", context, status=409)
    if request.htmx:
        return render(request, "documents/edit.html#save-status",
                      {"document": result.document, "saved": result.changed})
    messages.success(request, "Saved." if result.changed else "No changes to save.")
    return redirect("documents:edit", ws=request.membership.workspace_id, document_id=doc.pk)


@workspace_member()
@require_GET
def history(request: MemberRequest, document_id: int) -> HttpResponse:
    doc = selectors.document_get(workspace_id=request.membership.workspace_id,
                                 document_id=document_id)
    versions = DocumentVersion.objects.filter(document=doc).select_related("author")
    return render(request, "documents/history.html", {"document": doc, "versions": versions})


@workspace_member()
@require_GET
def version(request: MemberRequest, document_id: int, number: int) -> HttpResponse:
    doc = selectors.document_get(workspace_id=request.membership.workspace_id,
                                 document_id=document_id)
    v = selectors.version_get(document=doc, number=number)
    head = selectors.head_version(document=doc)
    return render(request, "documents/version.html", {
        "document": doc, "version": v, "head": head,
        "diff": selectors.line_diff(v.body, head.body),
        "title_changed": v.title != head.title,
    })


@workspace_member()
@require_POST
def restore(request: MemberRequest, document_id: int, number: int) -> HttpResponse:
    doc = selectors.document_get(workspace_id=request.membership.workspace_id,
                                 document_id=document_id)
    selectors.version_get(document=doc, number=number)
    new = services.document_restore(membership=request.membership, document_id=doc.pk,
                                    number=number)
    messages.success(request, f"Restored version {number} as version {new.number}.")
    return redirect("documents:edit", ws=request.membership.workspace_id, document_id=doc.pk)


@workspace_member()
@require_GET
def export(request: MemberRequest, document_id: int, fmt: str) -> HttpResponse:
    doc = selectors.document_get(workspace_id=request.membership.workspace_id,
                                 document_id=document_id)
    if fmt not in services.EXPORT_FORMATS:
        raise Http404("Export as md, html or txt.")
    content, content_type, ext = services.export_document(doc, fmt)
    record(workspace=request.membership.workspace_id, actor=request.user,
           action="document.exported", target=doc, summary=f"exported {doc.title!r} as {fmt}",
           details={"format": fmt, "version": doc.head_number})
    response = HttpResponse(content, content_type=content_type)
    name = slugify(doc.title) or f"document-{doc.pk}"
    response["Content-Disposition"] = f'attachment; filename="{name}.{ext}"'
    return response


@workspace_member()
@require_POST
def trash_document(request: MemberRequest, document_id: int) -> HttpResponse:
    doc = selectors.document_get(workspace_id=request.membership.workspace_id,
                                 document_id=document_id)
    services.document_trash(membership=request.membership, document_id=doc.pk)
    messages.success(request, f"Moved \u201c{doc.title}\u201d to the trash. You can restore it from "
                              "Trash.")
    return redirect("documents:list", ws=request.membership.workspace_id)


@workspace_member()
@require_POST
def untrash(request: MemberRequest, document_id: int) -> HttpResponse:
    doc = selectors.document_get(workspace_id=request.membership.workspace_id,
                                 document_id=document_id, trashed=True)
    services.document_untrash(membership=request.membership, document_id=doc.pk)
    messages.success(request, f"Restored \u201c{doc.title}\u201d.")
    return redirect("documents:edit", ws=request.membership.workspace_id, document_id=doc.pk)


