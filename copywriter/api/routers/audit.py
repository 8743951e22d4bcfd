"""The workspace's activity (audit) trail, read-only, for owner tokens: the activity page's
filters, newest first."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from copywriter.api import schemas as s
from copywriter.api.auth import member
from copywriter.api.errors import ApiError
from copywriter.api.inputs import refuse_unstorable
from copywriter.audit import selectors as audit_selectors
from copywriter.audit.models import AuditEvent

router = Router(tags=["activity"])


def _event_out(e: AuditEvent) -> dict[str, Any]:
    return {"id": e.pk, "created_at": e.created_at, "actor": e.actor_label or None,
            "action": e.action, "target_type": e.target_type, "target_id": e.target_id,
            "target": e.target_label, "summary": e.summary, "details": e.details, "ip": e.ip,
            "user_agent": e.user_agent}


@router.get("/audit", response={200: s.AuditEventPage, 400: s.ErrorOut, 403: s.ErrorOut},
            summary="List the workspace's activity, newest first (owner tokens only)")
def audit_list(request: HttpRequest,
               kind: str = Query("", max_length=64, description=(
                   "An action (member.role_changed) or its first part (member)")),
               actor: str = Query("", max_length=254,
                                  description="The actor's email; 'system' for no actor"),
               date_from: str = Query("", max_length=10, description="YYYY-MM-DD, inclusive"),
               date_to: str = Query("", max_length=10, description="YYYY-MM-DD, inclusive"),
               q: str = Query("", max_length=200, description="Text in the summary or target"),
               limit: int = Query(50, ge=1, le=200),
               offset: int = Query(0, ge=0, le=1_000_000)) -> dict[str, Any]:
    membership = member(request)
    if not membership.is_owner:
        raise ApiError(403, "The activity log is for owners: this token's role is "
                            f"{membership.role}.")
    params = {"kind": kind, "actor": actor, "from": date_from, "to": date_to, "q": q}
    refuse_unstorable(params)
    try:
        filters = audit_selectors.parse_filters(params)
    except audit_selectors.FilterError as exc:
        raise ApiError(400, str(exc)) from None
    qs = audit_selectors.events_for_workspace(workspace_id=membership.workspace_id,
                                              filters=filters)
    return {"count": qs.count(), "limit": limit, "offset": offset,
            "items": [_event_out(e) for e in qs[offset:offset + limit]]}
