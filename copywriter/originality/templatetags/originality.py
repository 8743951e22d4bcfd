"""``{% originality_report report text %}``: a report (verdict, score, verbatim overlap, matches
side by side) for any page. Everything is rendered through the template, autoescaped; the
links are built here, for the viewing workspace only."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from copywriter.originality.report import CONTEXT_CHARS
from copywriter.originality.text import LABELS

register = template.Library()

BADGE = {"original": "ok", "note": "", "paraphrase": "warn", "copy": "bad"}
KINDS = {"document": "Document", "variant": "Earlier generation", "reference": "Reference text"}


def _url(ws: int, source: dict[str, Any]) -> str:
    try:
        if source.get("kind") == "document":
            return reverse("documents:edit", args=[ws, source["id"]])
        if source.get("kind") == "variant":
            return (reverse("generation:detail", args=[ws, source["generation_id"]])
                    + f"#variant-{int(source['index'])}")
        if source.get("kind") == "reference":
            return reverse("originality:reference", args=[ws, source["id"]])
    except (KeyError, TypeError, ValueError, NoReverseMatch):
        pass
    return ""


def _match(ws: int, text: str, m: dict[str, Any]) -> dict[str, Any]:
    span = m.get("text_span") or {}
    start, end = int(span.get("start", 0)), int(span.get("end", 0))
    source = m.get("source") or {}
    return {**m, "url": _url(ws, source), "kind_label": KINDS.get(source.get("kind", ""), "Source"),
            "label": LABELS.get(m.get("verdict", ""), ""), "badge": BADGE.get(m.get("verdict", ""), ""),
            "before": ("\u2026" if start > CONTEXT_CHARS else "") + text[max(0, start - CONTEXT_CHARS):start],
            "after": text[end:end + CONTEXT_CHARS] + ("\u2026" if end + CONTEXT_CHARS < len(text) else ""),
            "similarity_pct": round(float(m.get("similarity", 0)) * 100),
            "overlap_pct": round(float(m.get("overlap", 0)) * 100),
            "span_overlap_pct": round(float(m.get("span_overlap", 0)) * 100)}


@register.inclusion_tag("originality/report.html", takes_context=True)
def originality_report(context: template.Context, report: dict[str, Any] | None, text: str = "",
                       compact: bool = False) -> dict[str, Any]:
    membership = context.get("membership")
    ws = membership.workspace_id if membership is not None else 0
    report = report or {}
    verdict = report.get("verdict")
    matches = [_match(ws, text or "", m) for m in report.get("matches") or []]
    return {
        "report": report, "verdict": verdict, "label": LABELS.get(verdict or "", "Not checked"),
        "badge": BADGE.get(verdict or "", ""), "matches": matches, "compact": compact,
        "flagged": verdict in ("paraphrase", "copy"),
        "score_pct": round(float(report.get("score", 0) or 0) * 100),
        "coverage_pct": round(float(report.get("coverage", 0) or 0) * 100),
        "overlap_pct": round(float(report.get("overlap", 0) or 0) * 100),
        "thresholds": report.get("thresholds") or {},
    }
