"""Fact sheets: list, create, read, and save versions (409 on a stale base)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from copywriter.api import schemas as s
from copywriter.api.auth import member, writer
from copywriter.api.errors import ApiError
from copywriter.api.inputs import refuse_unstorable
from copywriter.facts import selectors as facts_selectors
from copywriter.facts import services as facts_services
from copywriter.facts.models import FactSheet, FactSheetVersion

router = Router(tags=["facts"])


def _sheet_out(sheet: FactSheet) -> dict[str, Any]:
    return {"id": sheet.pk, "name": sheet.name, "kind": sheet.kind, "version": sheet.head_number,
            "archived": sheet.archived, "created_at": sheet.created_at,
            "updated_at": sheet.updated_at}


def _fact_version_out(v: FactSheetVersion) -> dict[str, Any]:
    return {"number": v.number, "based_on": v.based_on,
            "author": v.author.email if v.author else None, "created_at": v.created_at}


def _sheet_detail(sheet: FactSheet) -> dict[str, Any]:
    head = facts_selectors.head_version(sheet=sheet)
    return {**_sheet_out(sheet), "facts": head.facts, "approved": head.approved,
            "banned": head.banned,
            "versions": [_fact_version_out(v) for v in facts_selectors.versions_of(sheet=sheet)]}


@router.get("/facts", response={200: s.FactSheetPage, 400: s.ErrorOut},
            summary="List the workspace's fact sheets (live ones; archived=true for the rest)")
def fact_sheet_list(request: HttpRequest, q: str = Query("", max_length=120),
                    archived: bool = False, limit: int = Query(20, ge=1, le=100),
                    offset: int = Query(0, ge=0, le=100_000)) -> dict[str, Any]:
    refuse_unstorable(q, "q")
    qs = facts_selectors.sheets_for_workspace(workspace_id=member(request).workspace_id,
                                              archived=archived, q=q)
    return {"count": qs.count(), "limit": limit, "offset": offset,
            "items": [_sheet_out(sheet) for sheet in qs[offset:offset + limit]]}


@router.post("/facts", response={201: s.FactSheetDetailOut, 400: s.ErrorOut, 403: s.ErrorOut},
             summary="Create a fact sheet (its version 1)")
def fact_sheet_create(request: HttpRequest, payload: s.FactSheetIn) -> Status[dict[str, Any]]:
    membership = writer(request)
    refuse_unstorable(payload.model_dump())
    sheet = facts_services.fact_sheet_create(membership=membership, **payload.model_dump())
    return Status(201, _sheet_detail(sheet))


@router.get("/facts/{sheet_id}", response={200: s.FactSheetDetailOut, 404: s.ErrorOut},
            summary="A fact sheet: its latest version's lines and its version list")
def fact_sheet_detail(request: HttpRequest, sheet_id: int) -> dict[str, Any]:
    sheet = facts_selectors.sheet_get(workspace_id=member(request).workspace_id,
                                      sheet_id=sheet_id)
    return _sheet_detail(sheet)


@router.get("/facts/{sheet_id}/versions/{number}",
            response={200: s.FactVersionDetailOut, 404: s.ErrorOut},
            summary="One version of a fact sheet")
def fact_version_detail(request: HttpRequest, sheet_id: int, number: int) -> dict[str, Any]:
    sheet = facts_selectors.sheet_get(workspace_id=member(request).workspace_id,
                                      sheet_id=sheet_id)
    v = facts_selectors.version_get(sheet=sheet, number=number)
    return {**_fact_version_out(v), "name": v.name, "kind": v.kind, "facts": v.facts,
            "approved": v.approved, "banned": v.banned}


@router.post("/facts/{sheet_id}/versions",
             response={201: s.FactSheetDetailOut, 200: s.FactSheetDetailOut, 400: s.ErrorOut,
                       403: s.ErrorOut, 404: s.ErrorOut, 409: s.FactConflictOut},
             summary="Save a new version; 409 (nothing stored) when base_version is not the "
                     "latest version")
def fact_version_create(request: HttpRequest, sheet_id: int,
                        payload: s.FactVersionIn) -> Status[dict[str, Any]]:
    membership = writer(request)
    refuse_unstorable(payload.model_dump())
    sheet = facts_selectors.sheet_get(workspace_id=membership.workspace_id, sheet_id=sheet_id)
    values = payload.model_dump()
    base = values.pop("base_version")
    try:
        version = facts_services.fact_sheet_save(membership=membership, sheet_id=sheet.pk,
                                                 base_number=base, **values)
    except facts_services.StaleEdit as exc:
        raise ApiError(409, exc.message, extra={"head_version": exc.head_number}) from None
    sheet.refresh_from_db()
    return Status(201 if version.number != base else 200, _sheet_detail(sheet))
