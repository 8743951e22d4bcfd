"""Structured variants as the page shows them and as ad platforms import them.

A slot template's variant is stored with its items (``Variant.slots``); the page shows each slot
with its items and their character counts against the limit for this brief, and a responsive
search ad exports in the column layout Google Ads Editor imports: one row per variant, up to 15
headlines and 4 descriptions ("Add or edit responsive search ads in Google Ads Editor": columns
Campaign, Ad group, Headline 1-15, Description 1-4, Path 1-2, Final URL).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from copywriter.catalog.slots import char_limits, item_problems, slot_title
from copywriter.core.spreadsheet import escape_formula
from copywriter.generation.models import Generation, Variant

MAX_HEADLINES, MAX_DESCRIPTIONS = 15, 4
URL_FIELDS = ("final_url", "url", "landing_page", "landing_page_url", "website")


def _slots(gen: Generation) -> list[dict[str, Any]]:
    data = gen.template_version.data or {}
    return list((data.get("output") or {}).get("slots") or [])


def slot_view(gen: Generation, variant: Variant) -> list[dict[str, Any]]:
    """Each slot with its items: text, length, limit and whether it passes its slot's rules."""
    if not variant.slots:
        return []
    out = []
    for slot in _slots(gen):
        try:
            least, most = char_limits(slot, gen.fields)
        except (TypeError, ValueError):
            least, most = None, None
        items = [{"text": t, "chars": len(t), "max": most, "min": least,
                  "ok": not item_problems(t, slot, gen.fields)}
                 for t in variant.slots.get(str(slot["name"]), [])]
        out.append({"name": slot["name"], "title": slot_title(slot), "items": items,
                    "max": most})
    return out


def is_search_ad(gen: Generation) -> bool:
    names = {str(s.get("name")) for s in _slots(gen)}
    return {"headline", "description"} <= names and "search" in (gen.template.slug or "")


def search_ads_csv(gen: Generation, variants: list[Variant]) -> str:
    url = next((str(gen.fields.get(f)) for f in URL_FIELDS if gen.fields.get(f)), "")
    name = str(gen.fields.get("product") or gen.template.title)[:80]
    head = (["Campaign", "Ad group", "Ad type"]
            + [f"Headline {i}" for i in range(1, MAX_HEADLINES + 1)]
            + [f"Description {i}" for i in range(1, MAX_DESCRIPTIONS + 1)]
            + ["Path 1", "Path 2", "Final URL"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(head)
    for v in variants:
        slots = v.slots or {}
        heads = list(slots.get("headline", []))[:MAX_HEADLINES]
        descs = list(slots.get("description", []))[:MAX_DESCRIPTIONS]
        paths = list(slots.get("path", []))[:2]
        row = ([name, f"{name} - variant {v.index + 1}", "Responsive search ad"]
               + heads + [""] * (MAX_HEADLINES - len(heads))
               + descs + [""] * (MAX_DESCRIPTIONS - len(descs))
               + paths + [""] * (2 - len(paths)) + [url])
        writer.writerow([escape_formula(c) for c in row])
    return out.getvalue()
