"""Originality checks of documents: request one (queued) and read its report."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Status

from copywriter.api import schemas as s
from copywriter.api.auth import member
from copywriter.documents import selectors as document_selectors
from copywriter.originality import services as originality_services
from copywriter.originality.models import OriginalityCheck

router = Router(tags=["originality"])


def _check_out(check: OriginalityCheck) -> dict[str, Any]:
    return {"id": check.pk, "status": check.status, "document": check.document_id,
            "document_version": check.document_version, "report": check.report,
            "error": check.error, "created_at": check.created_at, "finished_at": check.finished_at}


@router.post("/documents/{document_id}/originality",
             response={202: s.CheckOut, 404: s.ErrorOut, 429: s.ErrorOut},
             summary="Check the document's current version (queued; poll "
                     "GET /originality/{check_id}). Reading is enough: viewers may check.")
def originality_check(request: HttpRequest, document_id: int) -> Status[dict[str, Any]]:
    membership = member(request)
    doc = document_selectors.document_get(workspace_id=membership.workspace_id,
                                          document_id=document_id)
    check = originality_services.document_check_request(membership=membership, document=doc)
    return Status(202, _check_out(check))


@router.get("/originality/{check_id}", response={200: s.CheckOut, 404: s.ErrorOut},
            summary="An originality check's status and report")
def originality_detail(request: HttpRequest, check_id: int) -> dict[str, Any]:
    check = OriginalityCheck.objects.filter(
        pk=check_id, workspace_id=member(request).workspace_id).first()
    if check is None:
        raise Http404
    return _check_out(check)
