"""Output slots: a channel's limits as template data (``output.slots``, docs/slots.md).

One reader for everything that deals with slot items: the catalog validator (the schema, and a
template's sample output against its own slots), the worker (which writes each item on its own
and never shows one that breaks its slot) and the quality checks (which read a whole output back
into items). Pure Python, like the rest of the schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SLOT_KEYS = {"name", "title", "count", "min", "max", "max_chars", "min_chars", "case",
             "end_punctuation", "exclamation", "label", "instruction", "source", "pattern"}
CASES = ("any", "sentence", "title", "upper", "lower")
ENDINGS = ("any", "none", "required")
MAX_SLOTS = 8
MAX_ITEMS = 15
SLOT_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")

_LIST_MARKER = re.compile(r"^(?:[-*•·]|\d{1,2}[.)])\s+")
_SECTION_LABEL = re.compile(r"^[A-Za-z][A-Za-z'’ ]{0,30}:$")  # "Headlines:" "Callouts:"
_SMALL_WORDS = {"a", "an", "the", "and", "but", "or", "nor", "for", "so", "yet", "of", "to", "in",
                "on", "at", "by", "with", "from", "as", "per", "via", "vs", "into", "onto", "up"}


@dataclass
class FormatResult:
    ok: bool | None  # None: no rules for this template
    failures: list[str] = field(default_factory=list)
    items: dict[str, list[str]] = field(default_factory=dict)  # slot name -> items read


def resolve(value: Any, fields: Mapping[str, Any]) -> Any:
    """A number in the rules, or one taken from the brief: {field: name} or {field, map}."""
    if isinstance(value, Mapping) and "field" in value:
        raw = fields.get(value["field"], "")
        if "map" in value:
            return value["map"].get(raw)
        return int(str(raw).strip())
    return value


def count_bounds(slot: Mapping[str, Any], fields: Mapping[str, Any]) -> tuple[int, int]:
    if "count" in slot:
        n = int(resolve(slot["count"], fields))
        return n, n
    return int(resolve(slot.get("min", 1), fields)), int(resolve(slot.get("max", 10**6), fields))


def char_limits(slot: Mapping[str, Any], fields: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(min_chars, max_chars) for this brief; None where the slot sets none."""
    least, most = resolve(slot.get("min_chars"), fields), resolve(slot.get("max_chars"), fields)
    return (None if least is None else int(least)), (None if most is None else int(most))


def slot_title(slot: Mapping[str, Any]) -> str:
    return str(slot.get("title") or str(slot["name"]).replace("_", " ").capitalize())


def _title_case(item: str) -> bool:
    words = re.findall(r"[A-Za-z][\w'’-]*", item)
    return all(w[0].isupper() for i, w in enumerate(words)
               if i == 0 or w.lower() not in _SMALL_WORDS)


def item_problems(item: str, slot: Mapping[str, Any], fields: Mapping[str, Any]) -> list[str]:
    """Why one item breaks its slot (empty: it fits): length, case, punctuation, pattern."""
    out = []
    least, most = char_limits(slot, fields)
    if most is not None and len(item) > most:
        out.append(f"has {len(item)} characters (at most {most})")
    if least is not None and len(item) < least:
        out.append(f"has {len(item)} characters (at least {least})")
    if not item.strip():
        out.append("is empty")
        return out
    if slot.get("exclamation") is False and "!" in item:
        out.append("has an exclamation mark")
    end = slot.get("end_punctuation", "any")
    if end == "none" and item.rstrip()[-1] in ".;:,":
        out.append("ends with punctuation")
    if end == "required" and item.rstrip()[-1] not in ".!?":
        out.append("does not end with punctuation")
    case = slot.get("case", "any")
    letters = [c for c in item if c.isalpha()]
    if case == "upper" and any(c.islower() for c in letters):
        out.append("is not upper case")
    elif case == "lower" and any(c.isupper() for c in letters):
        out.append("is not lower case")
    elif case == "sentence" and letters and not letters[0].isupper():
        out.append("does not start with a capital")
    elif case == "title" and not _title_case(item):
        out.append("is not title case")
    if slot.get("pattern") and not re.search(str(slot["pattern"]), item):
        out.append(f"does not match {slot['pattern']!r}")
    return out


def content_lines(text: str, *, labels: Sequence[str] = ()) -> list[str]:
    """The output's items, one per non-blank line, with list markers, bold and wrapping quotes
    taken off, and bare section labels ("Headlines:") skipped, except the slots' own
    ``labels``: "Primary text:" alone on a line heads the text on the next one."""
    keep = {label.lower() for label in labels}
    out: list[str] = []
    for raw in text.splitlines():
        line = clean_item(raw)
        if not line or (_SECTION_LABEL.match(line)
                        and _bare_label(line) not in keep):
            continue
        out.append(line)
    return out


def _bare_label(line: str) -> str:
    """ "Headline 2:" -> "headline" (string methods: no regex to backtrack on long lines)."""
    return line.rstrip().removesuffix(":").rstrip().rstrip("0123456789").rstrip().lower()


def clean_item(raw: str) -> str:
    """One line as an item: list marker, bold and wrapping quotes taken off."""
    line = _LIST_MARKER.sub("", raw.strip()).strip()
    line = line.strip("*_").strip()
    if len(line) >= 2 and line[0] == line[-1] and line[0] in "\"'":
        line = line[1:-1].strip()
    return line


def label_re(words_: Sequence[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(w) for w in words_)
    return re.compile(rf"^(?:(?:option|version|variant|{names})s?\s*#?\d{{0,2}}|#?\d{{1,2}})"
                      r"\s*[:.)\-–]\s+", re.IGNORECASE)


def slot_words(slot: Mapping[str, Any]) -> list[str]:
    name = str(slot["name"]).replace("_", " ")
    return [name, name.split()[-1]]


def _item_failures(name: str, items: list[str], slot: Mapping[str, Any],
                   fields: Mapping[str, Any]) -> list[str]:
    return [f"{name} {i} {problem}" for i, item in enumerate(items, 1)
            for problem in item_problems(item, slot, fields)]


def check_slots(text: str, slots: Sequence[Mapping[str, Any]],
                fields: Mapping[str, Any]) -> FormatResult:
    """Read a whole output back into its slots' items and say what breaks them."""
    labelled = [s for s in slots if s.get("label")]
    lines = content_lines(text, labels=[str(s["label"]) for s in labelled])
    result = FormatResult(ok=True)
    plain = [s for s in slots if not s.get("label")]
    used: set[int] = set()
    for slot in labelled:
        pat = re.compile(rf"^{re.escape(str(slot['label']))}\s*\d{{0,2}}\s*:\s*(.*)$", re.IGNORECASE)
        items = []
        for i, line in enumerate(lines):
            m = pat.match(line)
            if m is None or i in used:
                continue
            used.add(i)
            value = m.group(1).strip().strip("*").strip()
            if not value and i + 1 < len(lines) and i + 1 not in used:
                # The label alone on its line, its text on the next one.
                value = lines[i + 1]
                used.add(i + 1)
            items.append(value)
        result.items[str(slot["name"])] = items
        low, high = count_bounds(slot, fields)
        if not low <= len(items) <= high:
            want = str(low) if low == high else f"{low}-{high}"
            result.failures.append(f'{len(items)} "{slot["label"]}:" line(s), expected {want}')
        result.failures += _item_failures(str(slot["name"]), items, slot, fields)
    rest = [line for i, line in enumerate(lines) if i not in used]
    if labelled and not plain and rest:
        result.failures.append(f"{len(rest)} line(s) outside the labelled parts: {rest[0][:60]!r}")
    if plain:
        label = label_re([w for s in plain for w in slot_words(s)])
        rest = [label.sub("", line).strip() for line in rest]
        bounds = [count_bounds(s, fields) for s in plain]
        fixed = sum(low for low, _ in bounds[:-1])
        low_total = fixed + bounds[-1][0]
        high_total = fixed + bounds[-1][1]
        if any(low != high for low, high in bounds[:-1]):
            raise ValueError("only the last slot of a sequence may have a variable count")
        if not low_total <= len(rest) <= high_total:
            parts = " + ".join(f"{lo if lo == hi else f'{lo}-{hi}'} {s['name']}"
                               for s, (lo, hi) in zip(plain, bounds, strict=True))
            result.failures.append(f"{len(rest)} line(s), expected {parts}")
        pos = 0
        for slot, (low, high) in zip(plain, bounds, strict=True):
            take = low if slot is not plain[-1] else min(high, max(len(rest) - pos, 0))
            items = rest[pos:pos + take]
            pos += take
            result.items[str(slot["name"])] = items
            result.failures += _item_failures(str(slot["name"]), items, slot, fields)
    result.ok = not result.failures
    return result


def render_items(slots: Sequence[Mapping[str, Any]], items: Mapping[str, Sequence[str]]) -> str:
    """Slot items as the output text: one per line, in slot order, labelled where the slot says."""
    lines = []
    for slot in slots:
        for item in items.get(str(slot["name"]), ()):
            lines.append(f"{slot['label']}: {item}" if slot.get("label") else item)
    return "\n".join(lines)


# --- the schema --------------------------------------------------------------------------------

def _number_or_field(value: Any, what: str, fields: Mapping[str, Any], lo: int, hi: int,
                     errors: list[str]) -> None:
    if isinstance(value, bool):
        errors.append(f"{what} must be an integer {lo}..{hi} or {{field: NAME}}")
    elif isinstance(value, int):
        if not lo <= value <= hi:
            errors.append(f"{what} must be within {lo}..{hi}")
    elif isinstance(value, Mapping) and set(value) <= {"field", "map"} and "field" in value:
        f = fields.get(value["field"])
        if f is None:
            errors.append(f"{what} names an undeclared field {str(value['field'])[:40]!r}")
        elif "map" in value:
            mapping = value["map"]
            if (not isinstance(mapping, Mapping)
                    or not all(isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
                               for v in mapping.values())):
                errors.append(f"{what}.map must map choices to integers {lo}..{hi}")
            elif getattr(f, "choices", ()) and set(f.choices) - set(mapping):
                errors.append(f"{what}.map misses choices {sorted(set(f.choices) - set(mapping))}")
        elif getattr(f, "type", "") not in ("number", "choice"):
            errors.append(f"{what} may only take a number or choice field's value")
        else:
            bounds = [b for b in (getattr(f, "min", None), getattr(f, "max", None)) if b is not None]
            choices = [c for c in getattr(f, "choices", ()) or ()]
            values = bounds + [int(c) for c in choices if str(c).strip().isdigit()]
            if getattr(f, "type", "") == "choice" and len(values) != len(choices):
                errors.append(f"{what}: field {f.name!r} has choices that are not numbers (add a map)")
            elif any(not lo <= v <= hi for v in values):
                errors.append(f"{what}: field {f.name!r} allows values outside {lo}..{hi}")
    else:
        errors.append(f"{what} must be an integer {lo}..{hi} or {{field: NAME}}")


def validate_slots(raw: Any, fields: Mapping[str, Any]) -> list[str]:
    """Every problem with an ``output.slots`` value; ``fields`` maps names to the template's
    declared fields."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_SLOTS:
        return [f"output.slots must be a list of 1..{MAX_SLOTS} slots"]
    errors: list[str] = []
    names: list[str] = []
    for i, slot in enumerate(raw):
        where = f"output.slots[{i}]"
        if not isinstance(slot, Mapping):
            errors.append(f"{where} must be a mapping")
            continue
        extra = set(slot) - SLOT_KEYS
        if extra:
            errors.append(f"{where} has unknown keys {sorted(map(str, extra))[:4]}")
        name = slot.get("name")
        if not isinstance(name, str) or not SLOT_NAME_RE.match(name):
            errors.append(f"{where}.name must be lowercase letters, digits and _ (1..30)")
        else:
            names.append(name)
            where = f"output.slots.{name}"
        for key, limit in (("title", 40), ("label", 40)):
            if key in slot and (not isinstance(slot[key], str) or not 1 <= len(slot[key].strip()) <= limit):
                errors.append(f"{where}.{key} must be 1..{limit} characters")
        if "count" in slot:
            if "min" in slot or "max" in slot:
                errors.append(f"{where} takes count or min/max, not both")
            _number_or_field(slot["count"], f"{where}.count", fields, 1, MAX_ITEMS, errors)
        else:
            lo, hi = slot.get("min", 1), slot.get("max")
            if hi is None:
                errors.append(f"{where} needs count, or max (and min)")
            else:
                _number_or_field(lo, f"{where}.min", fields, 0, MAX_ITEMS, errors)
                _number_or_field(hi, f"{where}.max", fields, 1, MAX_ITEMS, errors)
                if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
                    errors.append(f"{where}.min must not exceed max")
        for key in ("max_chars", "min_chars"):
            if key in slot:
                _number_or_field(slot[key], f"{where}.{key}", fields, 1, 5000, errors)
        if isinstance(slot.get("min_chars"), int) and isinstance(slot.get("max_chars"), int) \
                and slot["min_chars"] > slot["max_chars"]:
            errors.append(f"{where}.min_chars must not exceed max_chars")
        if ("max_chars" in slot or "min_chars" in slot) and not (
                isinstance(slot.get("source"), str) and 10 <= len(slot["source"].strip()) <= 400):
            errors.append(f"{where}.source must say where its character limit comes from "
                          "(the platform's page, or 'template prompt'), 10..400 characters")
        if slot.get("case", "any") not in CASES:
            errors.append(f"{where}.case must be one of {CASES}")
        if slot.get("end_punctuation", "any") not in ENDINGS:
            errors.append(f"{where}.end_punctuation must be one of {ENDINGS}")
        if "exclamation" in slot and not isinstance(slot["exclamation"], bool):
            errors.append(f"{where}.exclamation must be true or false")
        instruction = slot.get("instruction")
        if not isinstance(instruction, str) or not 10 <= len(instruction.strip()) <= 200:
            errors.append(f"{where}.instruction must say what one item is, 10..200 characters")
        if "pattern" in slot:
            errors.append(f"{where}.pattern is for the quality checks' own rules, not templates")
    if len(set(names)) != len(names):
        errors.append("output.slots names must be unique")
    plain = [s for s in raw if isinstance(s, Mapping) and not s.get("label")]
    if any("count" not in s for s in plain[:-1]):
        errors.append("only the last unlabelled slot may have a variable count (min/max)")
    return errors
