"""Documents: list and search, create, read, and save versions (409 on a stale base)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Status

from copywriter.api import schemas as s
from copywriter.api.auth import member, writer
from copywriter.api.errors import ApiError
from copywriter.api.inputs import refuse_unstorable
from copywriter.documents import selectors as document_selectors
from copywriter.documents import services as document_services
from copywriter.documents.models import Document, DocumentVersion

router = Router(tags=["documents"])


def _document_out(doc: Document) -> dict[str, Any]:
    return {"id": doc.pk, "title": doc.title, "head_version": doc.head_number,
            "created_at": doc.created_at, "updated_at": doc.updated_at}


def _version_out(v: DocumentVersion) -> dict[str, Any]:
    return {"number": v.number, "kind": v.kind, "based_on": v.based_on,
            "author": v.author.email if v.author else None, "created_at": v.created_at}


def _document_detail(doc: Document) -> dict[str, Any]:
    versions = DocumentVersion.objects.filter(document=doc).select_related("author")
    return {**_document_out(doc), "body": doc.body,
            "versions": [_version_out(v) for v in versions]}


@router.get("/documents", response={200: s.DocumentPage, 400: s.ErrorOut},
            summary="List or search (title and text) the workspace's documents")
def document_list(request: HttpRequest, q: str = Query("", max_length=200),
                  limit: int = Query(20, ge=1, le=100),
                  offset: int = Query(0, ge=0, le=100_000)) -> dict[str, Any]:
    refuse_unstorable(q, "q")
    qs = document_selectors.documents_for_workspace(workspace_id=member(request).workspace_id,
                                                    q=q)
    return {"count": qs.count(), "limit": limit, "offset": offset,
            "items": [_document_out(d) for d in qs[offset:offset + limit]]}


@router.post("/documents", response={201: s.DocumentDetailOut, 400: s.ErrorOut,
                                     403: s.ErrorOut, 413: s.ErrorOut},
             summary="Create a document (its version 1)")
def document_create(request: HttpRequest, payload: s.DocumentIn) -> Status[dict[str, Any]]:
    membership = writer(request)
    refuse_unstorable(payload.model_dump())
    doc = document_services.document_create(membership=membership, title=payload.title,
                                            body=payload.body)
    return Status(201, _document_detail(doc))


@router.get("/documents/{document_id}", response={200: s.DocumentDetailOut, 404: s.ErrorOut},
            summary="A document: its current text and its version list")
def document_detail(request: HttpRequest, document_id: int) -> dict[str, Any]:
    doc = document_selectors.document_get(workspace_id=member(request).workspace_id,
                                          document_id=document_id)
    return _document_detail(doc)


@router.get("/documents/{document_id}/versions/{number}",
            response={200: s.VersionDetailOut, 404: s.ErrorOut},
            summary="One version of a document, conflict copies included")
def version_detail(request: HttpRequest, document_id: int, number: int) -> dict[str, Any]:
    doc = document_selectors.document_get(workspace_id=member(request).workspace_id,
                                          document_id=document_id)
    v = document_selectors.version_get(document=doc, number=number)
    return {**_version_out(v), "title": v.title, "body": v.body}


@router.post("/documents/{document_id}/versions",
             response={201: s.SavedOut, 200: s.SavedOut, 400: s.ErrorOut, 403: s.ErrorOut,
                       404: s.ErrorOut, 409: s.ConflictOut, 413: s.ErrorOut},
             summary="Save a new version; 409 with the kept conflict copy when base_version "
                     "is not the current version")
def version_create(request: HttpRequest, document_id: int,
                   payload: s.VersionIn) -> Status[dict[str, Any]]:
    membership = writer(request)
    refuse_unstorable(payload.model_dump())
    doc = document_selectors.document_get(workspace_id=membership.workspace_id,
                                          document_id=document_id)
    try:
        result = document_services.document_save(
            membership=membership, document_id=doc.pk,
            title=doc.title if payload.title is None else payload.title, body=payload.body,
            base_number=payload.base_version)
    except Document.DoesNotExist:  # trashed between the read and the save
        raise Http404 from None
    if result.conflict:
        raise ApiError(409, f"Version {payload.base_version} is not the current version "
                            f"({result.document.head_number}). Your text was kept as version "
                            f"{result.version.number} (a conflict copy); merge and save again "
                            f"with base_version {result.document.head_number}.",
                       extra={"conflict_version": result.version.number,
                              "head_version": result.document.head_number})
    return Status(201 if result.changed else 200, {
        "document": doc.pk, "version": result.version.number, "changed": result.changed})
