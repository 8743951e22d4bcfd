"""Checks on one generated variant against its brief: format, invented numbers, unsupported
claims, product name, facts carried, keyword, placeholders and echoed instructions.

Plain Python (no Django, no torch): the eval command runs them on fresh output, and they can be
run again on a saved run's texts. Every check is deliberately literal (string and number
matching, no model), so a figure means the same thing from one run to the next; what each one
counts exactly is in docs/quality.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from copywriter.catalog.slots import FormatResult, check_slots
from copywriter.catalog.slots import resolve as _resolve

# One normaliser and one reader of numbers for the eval and the claims check shown to users.
from copywriter.claims.check import check_claims, read_numbers  # noqa: F401
from copywriter.core.text import contains, echoed_instructions, norm, placeholders, words  # noqa: F401

# --- format rules ----------------------------------------------------------------------------

FORMATS_PATH = Path(__file__).resolve().parents[2] / "data" / "quality" / "formats.yaml"

def load_formats(path: Path | None = None) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((path or FORMATS_PATH).read_text()) or {}
    return dict(data.get("templates") or {})


def rules_for(template_id: str, *, formats: Mapping[str, Any],
              template_output: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """A template's own ``output.slots`` when it has them (the schema issue 14 adds: name,
    count or min/max, max_chars/min_chars), else its entry in formats.yaml, else None."""
    slots = (template_output or {}).get("slots")
    if slots:
        return {"kind": "slot", "slots": list(slots)}
    rules = formats.get(template_id)
    return dict(rules) if rules else None



def check_format(text: str, rules: Mapping[str, Any] | None,
                 fields: Mapping[str, Any]) -> FormatResult:
    """Every rule of the template: slots (count, order, labels, lengths) for slot templates;
    word range, required and forbidden parts for long-form ones."""
    if not rules:
        return FormatResult(ok=None)
    result = (check_slots(text, rules["slots"], fields) if rules.get("slots")
              else FormatResult(ok=True))
    if rules.get("words"):
        bounds = _resolve(rules["words"], fields) or {}
        n = len(words(text))
        if "min" in bounds and n < int(bounds["min"]):
            result.failures.append(f"{n} words (at least {bounds['min']})")
        if "max" in bounds and n > int(bounds["max"]):
            result.failures.append(f"{n} words (at most {bounds['max']})")
    for part in rules.get("require") or []:
        if not re.search(part["pattern"], text):
            result.failures.append(f"missing: {part['name']}")
    for part in rules.get("forbid") or []:
        if re.search(part["pattern"], text):
            result.failures.append(f"has: {part['name']}")
    result.ok = not result.failures
    return result


# --- numbers not in the brief ----------------------------------------------------------------

def invented_numbers(text: str, *, brief: str) -> list[str]:
    """Numbers, prices, percentages and durations the variant states (in digits or words: "four
    hours") whose value appears nowhere in the brief. Matched by value, not unit: "35 pounds" in
    the brief covers "£35"; a "40-hour" claim next to a brief's "40%" goes unnoticed (the claims
    check, ``copywriter.claims.check``, which reads numbers with the same reader, tells units
    apart)."""
    allowed: set[object] = set()
    for n in read_numbers(brief):
        allowed |= n.values
    return [n.core.strip() for n in read_numbers(text) if not n.values & allowed]


def unsupported_claims(text: str, *, support: Sequence[str]) -> list[str]:
    """The claims the brief's field values do not support, as the claims check shown to users
    finds them (numbers, names, superlatives, guarantees, contradictions...): "claim (reason)"."""
    return [f"{c.text} ({c.reason})" for c in check_claims(text, support=support).claims
            if not c.supported]


# --- product, facts, keyword -----------------------------------------------------------------

def names_product(text: str, product: str | None) -> bool | None:
    return None if not product else contains(text, product)


def facts_carried(text: str, facts: Sequence[Mapping[str, Any]]) -> list[bool]:
    """Per fact: is any of its key words or numbers in the text."""
    return [any(contains(text, term) for term in fact["any"]) for fact in facts]


def uses_keyword(text: str, keyword: str | None) -> bool | None:
    """The exact phrase (case, dashes and spacing aside); close variants do not count."""
    return None if not keyword else contains(text, keyword)


# --- everything at once ----------------------------------------------------------------------

@dataclass
class VariantChecks:
    format_ok: bool | None
    format_failures: list[str]
    invented_numbers: list[str]
    names_product: bool | None
    facts: list[bool]
    keyword: bool | None
    placeholders: list[str]
    echoed: list[str]
    unsupported_claims: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_variant(text: str, *, brief: Mapping[str, Any], prompt: str,
                  rules: Mapping[str, Any] | None) -> VariantChecks:
    """All checks of one variant. ``brief`` is one line of data/quality/briefs.jsonl (fields,
    product, keyword, facts); ``prompt`` the rendered prompt the model was given."""
    fields = {k: str(v) for k, v in brief["fields"].items()}
    fmt = check_format(text, rules, fields)
    return VariantChecks(
        format_ok=fmt.ok, format_failures=fmt.failures,
        invented_numbers=invented_numbers(text, brief="\n".join(fields.values())),
        names_product=names_product(text, brief.get("product")),
        facts=facts_carried(text, brief.get("facts") or []),
        keyword=uses_keyword(text, brief.get("keyword")),
        placeholders=placeholders(text),
        echoed=echoed_instructions(text, prompt=prompt, field_values=list(fields.values())),
        unsupported_claims=unsupported_claims(text, support=list(fields.values())))
