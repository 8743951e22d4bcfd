"""The quality eval's brief set (data/quality/briefs.jsonl): loading and validation.

Plain Python. A brief is what a marketer would type into one template's fields, plus what the
checks need: ``product`` (the name the copy must carry, or null), ``keyword`` (or null),
``facts`` (atomic facts, each with the words or numbers that show it is carried) and ``split``
("tune" or "heldout"). The set is for measuring; the tests never read it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from copywriter.core.text import contains, norm, words

BRIEFS_PATH = Path(__file__).resolve().parents[2] / "data" / "quality" / "briefs.jsonl"
SPLITS = ("tune", "heldout")
NEAR_DUPLICATE = 0.6  # word-set Jaccard of two briefs' field text above which they are one brief


def load_briefs(path: Path | None = None, *, split: str | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (path or BRIEFS_PATH).read_text().splitlines()
            if line.strip()]
    return [r for r in rows if split in (None, "all", r["split"])]


def word_set(text: str) -> set[str]:
    return set(words(norm(text)))


def overlap(x: set[str], y: set[str]) -> float:
    """Jaccard of two word sets (``word_set``): for texts compared with many others."""
    return len(x & y) / len(x | y) if x | y else 0.0


def jaccard(a: str, b: str) -> float:
    return overlap(word_set(a), word_set(b))


def validate_briefs(briefs: Sequence[Mapping[str, Any]], specs: Mapping[str, Any]) -> list[str]:
    """Every problem with the set, as lines; empty when it is sound. ``specs``: template id ->
    PromptTemplate (copywriter.catalog.schema)."""
    errors: list[str] = []
    ids = Counter(b["id"] for b in briefs)
    errors += [f"{i}: id used {n} times" for i, n in ids.items() if n > 1]
    for b in briefs:
        where = b.get("id", "?")
        spec = specs.get(b.get("template", ""))
        if spec is None:
            errors.append(f"{where}: no template {b.get('template')!r}")
            continue
        fields = {k: str(v) for k, v in b["fields"].items()}
        known = {f.name for f in spec.fields}
        errors += [f"{where}: {name!r} is not a field of {spec.id}" for name in set(fields) - known]
        errors += [f"{where}: field {name}: {msg}"
                   for name, msg in spec.validate_values(
                       {f.name: fields.get(f.name, "") for f in spec.fields}).items()]
        if b.get("split") not in SPLITS:
            errors.append(f"{where}: split must be one of {SPLITS}")
        text = "\n".join(fields.values())
        if b.get("product") and not contains(text, b["product"]):
            errors.append(f"{where}: product {b['product']!r} is not in the fields")
        if b.get("keyword") and not contains(text, b["keyword"]):
            errors.append(f"{where}: keyword {b['keyword']!r} is not in the fields")
        facts = b.get("facts") or []
        if not 3 <= len(facts) <= 6 and not (len(facts) == 2 and len(text) < 160):
            errors.append(f"{where}: {len(facts)} facts (3-6; 2 for a very short brief)")
        for fact in facts:
            if not fact.get("any") or not any(contains(text, t) for t in fact["any"]):
                errors.append(f"{where}: none of the words of fact {fact.get('fact')!r} is in "
                              "the fields")
    texts = [(b["id"], "\n".join(str(v) for v in b["fields"].values())) for b in briefs]
    for i, (a_id, a) in enumerate(texts):
        for b_id, b_text in texts[i + 1:]:
            score = jaccard(a, b_text)
            if score > NEAR_DUPLICATE:
                errors.append(f"{a_id} and {b_id} are near-duplicates (word overlap {score:.2f})")
    return errors


def validate_set(briefs: Sequence[Mapping[str, Any]], kinds: Mapping[str, str]) -> list[str]:
    """What the whole set must be (issue 14): >= 48 briefs over >= 24 templates, >= 16 of them
    slot templates, one brief of each template in each split. ``kinds``: template -> kind."""
    errors: list[str] = []
    templates = {b["template"] for b in briefs}
    if len(briefs) < 48 or len(templates) < 24:
        errors.append(f"{len(briefs)} briefs over {len(templates)} templates (>= 48 over >= 24)")
    slots = sum(1 for t in templates if kinds.get(t) == "slot")
    if slots < 16:
        errors.append(f"{slots} slot templates (>= 16)")
    per_template: dict[str, Counter[str]] = {}
    for b in briefs:
        per_template.setdefault(b.get("template", ""), Counter())[b.get("split", "")] += 1
    for template, splits in per_template.items():
        if splits["tune"] != 1 or splits["heldout"] != 1:
            errors.append(f"{template}: needs one brief in each split, has {dict(splits)}")
    return errors


def template_kind(rules: Mapping[str, Any] | None) -> str:
    """"slot" (a channel with hard limits: fixed items of bounded length) or "long"."""
    return "slot" if rules and rules.get("slots") else "long"

