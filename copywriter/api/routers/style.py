"""House style: the workspace's rules (everyone reads, owners replace) and a check of any text."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router

from copywriter.api import schemas as s
from copywriter.api.auth import member
from copywriter.api.errors import ApiError
from copywriter.api.inputs import refuse_unstorable
from copywriter.style import services as style

router = Router(tags=["style"])


@router.get("/style/rules", response={200: s.StyleRulesIO},
            summary="The workspace's house style rules (the defaults when none are set)")
def style_rules_get(request: HttpRequest) -> dict[str, Any]:
    return style.rules_to_dict(style.rules_for(workspace_id=member(request).workspace_id))


@router.put("/style/rules", response={200: s.StyleRulesIO, 400: s.ErrorOut, 403: s.ErrorOut},
            summary="Replace the workspace's house style rules (owner tokens); fields left out "
                    "take their defaults")
def style_rules_put(request: HttpRequest, payload: s.StyleRulesIO) -> dict[str, Any]:
    membership = member(request)
    if not membership.is_owner:
        raise ApiError(403, "Only the workspace's owners change its house style; this token's "
                            f"role is {membership.role}.")
    data = payload.model_dump()
    refuse_unstorable(data)
    return style.rules_to_dict(style.rules_save(membership=membership, data=data))


@router.post("/style/check", response={200: s.StyleCheckOut, 400: s.ErrorOut, 413: s.ErrorOut},
             summary="Check a text against the workspace's house style: findings and the text "
                     "with the mechanical fixes applied")
def style_check(request: HttpRequest, payload: s.StyleCheckIn) -> dict[str, Any]:
    refuse_unstorable(payload.model_dump())
    if len(payload.text) > settings.DOCUMENT_MAX_CHARS:
        raise ApiError(413, f"The text is {len(payload.text):,} characters long; the limit is "
                            f"{settings.DOCUMENT_MAX_CHARS:,}.", errors={"text": "Too long."})
    rules = style.rules_for(workspace_id=member(request).workspace_id)
    findings = style.check_text(rules, payload.text, category=payload.category)
    fixed, _ = style.apply_fixes(payload.text, findings)
    return {"count": len(findings), "fixable": sum(1 for f in findings if f.replacement is not None),
            "findings": [f.as_dict() for f in findings], "fixed": fixed}
