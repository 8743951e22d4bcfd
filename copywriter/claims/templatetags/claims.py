"""``{% claim_marks text report as parts %}``: a variant's text cut into the pieces between and
inside its unsupported claims, for the page to mark them. The text is rendered through the
template (autoescaped); a claim whose span no longer holds its text is left unmarked."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def claim_marks(text: str, report: dict[str, Any] | None) -> list[dict[str, Any]]:
    text = text or ""
    parts: list[dict[str, Any]] = []
    pos = 0
    claims = (report or {}).get("claims") or []
    for claim in sorted(claims, key=lambda c: (c.get("span") or [0])[0]):
        try:
            start, end = (int(x) for x in claim["span"])
        except (KeyError, TypeError, ValueError):
            continue
        if start < pos or end <= start or text[start:end] != claim.get("text"):
            continue
        if start > pos:
            parts.append({"text": text[pos:start], "claim": None})
        parts.append({"text": text[start:end], "claim": claim})
        pos = end
    if pos < len(text):
        parts.append({"text": text[pos:], "claim": None})
    return parts
