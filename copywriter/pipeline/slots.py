"""Slot templates: what the writer is asked for each item, and how a written item is read.

A slot template's variant is written item by item: each headline, description or subject line
is its own short sequence with its slot's instruction and limit, and all of them share the batch.
Items of one slot get different angles (the product, a benefit, a fact, the offer, ...) so the
candidates do not all say the same thing, and the first item carries the brief's search term
where the template has one. A written item is read back to one clean line; an item over its
limit is trimmed only where the cut leaves a complete phrase, otherwise it is not used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from copywriter.catalog.slots import (
    char_limits,
    check_slots,
    clean_item,
    count_bounds,
    item_problems,
    slot_title,
)

# What each item of a slot leads with, in turn (item 1 the first angle, item 2 the second, ...).
ANGLES = ("the product or brand by name", "the main benefit for the customer",
          "one concrete fact from the brief", "the offer or the next step to take",
          "who it is for", "what makes it different", "a second fact from the brief",
          "the problem it solves")
KEYWORD_FIELDS = ("keyword", "keywords", "search_term", "target_keyword", "primary_keyword",
                  "focus_keyword")
_LABEL_PREFIX = re.compile(r"^(?:[A-Za-z][A-Za-z ]{0,24}?\s*#?\d{0,2}\s*:\s+)")
PRODUCT_ROOM = 12  # characters an item asked for the product needs besides the name
_TAIL_WORDS = {"a", "an", "the", "and", "or", "but", "for", "of", "to", "in", "on", "at", "by",
               "with", "from", "your", "our", "their", "its", "is", "are", "that", "which", "as"}


@dataclass(frozen=True)
class Item:
    """One item to write: the ``n``-th of its slot, and its place among all the variant's items."""

    slot: Mapping[str, Any]
    n: int  # 0-based within its slot
    number: int  # 0-based within the variant (row keys, seeds)


def items_for(slots: Sequence[Mapping[str, Any]], fields: Mapping[str, Any]) -> list[Item]:
    """Every item a variant needs, in output order; a range (min/max) writes its upper count."""
    out: list[Item] = []
    for slot in slots:
        _, high = count_bounds(slot, fields)
        for n in range(high):
            out.append(Item(slot=slot, n=n, number=len(out)))
    return out


def keyword_of(fields: Mapping[str, Any]) -> str:
    for name in KEYWORD_FIELDS:
        value = str(fields.get(name) or "").strip()
        if value:
            return re.split(r"[,\n;]", value)[0].strip()
    return ""


def brief_block(field_specs: Sequence[Mapping[str, Any]], fields: Mapping[str, Any],
                facts: Mapping[str, Any] | None = None) -> str:
    """The brief as "Label: value" lines, in the template's field order, empty ones left out,
    then the workspace's facts and banned claims, if any were picked."""
    lines = []
    for spec in field_specs:
        value = str(fields.get(str(spec.get("name")), "") or "").strip()
        if value:
            lines.append(f"{spec.get('label') or spec.get('name')}: {' '.join(value.split())}")
    facts = facts or {}
    known = [*facts.get("facts", []), *facts.get("approved", [])]
    if known:
        lines.append("Facts: " + "; ".join(str(f) for f in known))
    if facts.get("banned"):
        lines.append("Never claim: " + "; ".join(str(f) for f in facts["banned"]))
    return "\n".join(lines)


def sample_items(data: Mapping[str, Any], slots: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """The template's own sample output read into its slots (the validator guarantees it fits):
    shown to the writer as the shape of one item, for another brief."""
    fields = _sample_fields(data)
    try:
        return check_slots(str(data.get("sample_output") or ""), slots, fields).items
    except (TypeError, ValueError):
        return {}


def sample_brief(data: Mapping[str, Any]) -> str:
    """The field values of the template's sample (the brief ``sample_items`` was written for)."""
    return " ".join(v for v in _sample_fields(data).values() if v not in ("", "None"))


def _sample_fields(data: Mapping[str, Any]) -> dict[str, str]:
    samples = data.get("samples") or [{}]
    return {k: str(v) for k, v in (samples[0] or {}).items()}


def asks_keyword(item: Item, fields: Mapping[str, Any]) -> str:
    """The brief's search term if this item must carry it: the first item of each slot, when
    the term fits the slot's limit (a 21-character term never fits a 15-character path)."""
    keyword = keyword_of(fields)
    if not keyword or item.n != 0:
        return ""
    most = char_limits(item.slot, fields)[1]
    return keyword if most is None or len(keyword) <= most else ""


def fits_product(item: Item, fields: Mapping[str, Any], product: str) -> bool:
    """The product's name leaves room for a few words within the item's limit."""
    most = char_limits(item.slot, fields)[1]
    return bool(product) and (most is None or len(product) + PRODUCT_ROOM <= most)


def asks_product(item: Item, fields: Mapping[str, Any], product: str) -> str:
    """The product's name if this item must carry it: the first item of each slot that is not
    asked for the search term (the second when the first is), when the name leaves room for a
    few words within the slot's limit. A variant that never names what it sells is no use."""
    if not fits_product(item, fields, product):
        return ""
    first = Item(slot=item.slot, n=0, number=item.number - item.n)
    return product if item.n == (1 if asks_keyword(first, fields) else 0) else ""


def must_carry(item: Item, fields: Mapping[str, Any], product: str) -> str:
    """The phrase this item is asked for and chosen by: the search term, else the product."""
    return asks_keyword(item, fields) or asks_product(item, fields, product)


def keyword_start(item: Item, keyword: str) -> str:
    """The search term as an item's first words: in title case where the slot wants it,
    else with a capital first letter (the writer goes on from it)."""
    if item.slot.get("case") == "title":
        return " ".join(w[:1].upper() + w[1:] for w in keyword.split())
    return keyword[:1].upper() + keyword[1:]


def item_prompt(item: Item, *, template_title: str, brief: str, fields: Mapping[str, Any],
                examples: Mapping[str, Sequence[str]] | None = None, product: str = "") -> str:
    """The prompt of one item row (``examples``: ``sample_items``, one shown as the shape;
    ``product``: the name the variant must carry, ``asks_product``)."""
    slot = item.slot
    shapes = (examples or {}).get(str(slot["name"])) or [""]
    example = shapes[item.n % len(shapes)]
    what = slot_title(slot).lower()
    least, most = char_limits(slot, fields)
    rules = [str(slot.get("instruction", "")).strip().rstrip(".") + "."]
    angle = ANGLES[item.n % len(ANGLES)]
    keyword = asks_keyword(item, fields)
    name = asks_product(item, fields, product)
    if keyword:
        rules.append(f'Use the search term "{keyword}".')
    elif name:
        rules.append(f'Lead with the name "{name}".')
    else:
        rules.append(f"Lead with {angle}.")
    if most is not None:
        rules.append(f"At most {most} characters" + (f", at least {least}." if least else "."))
    if slot.get("exclamation") is False:
        rules.append("No exclamation marks.")
    if slot.get("case") == "title":
        rules.append("Capitalise Each Main Word.")
    rules.append("Use only facts from the brief. Reply with the " + what + " only, on one line.")
    shape = (f"\n\nThe shape of one {what}, from another brief (do not reuse its facts):\n{example}"
             if example else "")
    return (f"{template_title}: write one {what}.\n\nBrief:\n{brief}{shape}\n\n" + " ".join(rules))


def item_budget(slot: Mapping[str, Any], fields: Mapping[str, Any]) -> int:
    """New tokens for one item: about a token per 3 characters of its limit, plus room to end."""
    _, most = char_limits(slot, fields)
    return 60 if most is None else max(12, min(120, most // 3 + 10))


_NOT_COPY = re.compile(r"^(?:write|create|generate|make|use|include|here(?:'s| is| are)|your "
                       r"(?:answer|response)|answer|output|note|example|brief)\b", re.IGNORECASE)


def not_copy(item: str) -> str:
    """Why a written item is not copy at all ("" when it is): an instruction read back, or a
    bracketed blank (slot items never need brackets)."""
    if _NOT_COPY.match(item):
        return "an instruction, not copy"
    if "[" in item or "{" in item or "<" in item:
        return "has a bracketed blank"
    return ""


_JOB_TALK = re.compile(r"\b(?:briefs?|characters?|copywrit\w*|prompts?|instructions?|formats?|"
                       r"the shape of|write (?:one|a|an|the)|(?:this|the) e-?mail is|"
                       r"in (?:one|two|three|four|five|\d+) words|"
                       r"I(?:'m|’m| am) (?:happy|ready|here) to help|AI assistant|as an AI)\b",
                       re.IGNORECASE)


def job_talk(item: str, slot: Mapping[str, Any], said: str, stems: set[str]) -> str:
    """Why an item talks about the writing job instead of the product ("" when it does not):
    "The email is about Ruth Okafor", "Etsy (140 characters)", "You've been given an X post in
    one format", "Write one preheader that fits", the assistant's voice ("I'm happy to help
    with your gardening needs"). What the brief itself says is the brief's
    (a word by its first five letters, a phrase whole), so a course on copywriting may say so;
    the slot's own name counts when it is a long one ("preheader", "promotional text"; "post" is
    too common a word). ``said``: the brief in lower case; ``stems``: the first five letters of
    its words of 4+ letters (``brief_words``), both read once per brief."""
    hits = [m.group(0) for m in _JOB_TALK.finditer(item)]
    what = slot_title(slot).lower()
    if len(what) >= 8 and re.search(r"\b" + re.escape(what) + r"s?\b", item, re.IGNORECASE):
        hits.append(what)
    hits = [h for h in hits
            if not (h.lower() in said if " " in h else h.lower()[:5] in stems)]
    return f"talks about the job: {hits[0]!r}" if hits else ""


def brief_words(said: str) -> set[str]:
    """The first five letters of the words of 4+ letters of a brief in lower case."""
    return {w[:5] for w in re.findall(r"[a-z]{4,}", said)}


def complete_part(text: str) -> str:
    """A row that ran out of tokens stopped mid-phrase: keep what ends at its last phrase
    boundary ("" when there is none)."""
    cuts = [m.start() for m in re.finditer(r"[,;:.!?|]|\s[-–—]\s", text)]
    return text[:cuts[-1] + 1].rstrip(" ,;:-–—|") if cuts else ""


def read_item(text: str, slot: Mapping[str, Any], labels: Sequence[str] = (),
              keep: Sequence[str] = ()) -> str:
    """The item in a written line: list marker, quotes, bold and a leading label taken off
    (``labels``: the brief's field labels, which small models like to copy: "Product or
    service: Tidewell solar panels"). A line that starts with one of ``keep`` (the search term,
    the product's name) has no label: "Dog grooming leeds: full groom from 35 pounds",
    "Metrica: your first A/B test in a day"."""
    lines = [ln for ln in text.strip().split("\n") if ln.strip()]
    line = clean_item(next((ln for ln in lines if not ln.strip().endswith(":")), lines[0] if lines else ""))
    if not any(k and line.lower().startswith(k.lower()) for k in keep):
        line = _without_label(line, slot, labels)
    if slot.get("end_punctuation") == "none":
        line = line.rstrip(".;:, ")
    return " ".join(line.split())


def _without_label(line: str, slot: Mapping[str, Any], labels: Sequence[str]) -> str:
    label = str(slot.get("label") or "")
    for prefix in (label, slot_title(slot)):
        if prefix and line.lower().startswith(prefix.lower()):
            rest = line[len(prefix):].lstrip(" #0123456789").lstrip(":").strip()
            if rest:
                line = rest
                break
    else:
        line = _LABEL_PREFIX.sub("", line, count=1)
    line = clean_item(line)
    for label in sorted((str(x) for x in labels if x), key=len, reverse=True):
        if line.lower().startswith(label.lower() + ":"):
            line = clean_item(line[len(label) + 1:])
            break
    return line


def fit(item: str, slot: Mapping[str, Any], fields: Mapping[str, Any]) -> str | None:
    """The item as shown, or None when it cannot be: it must pass every rule of its slot. An item
    over its limit is cut at a phrase boundary (a comma, dash, colon, full stop) when what is
    left is still complete; it is never cut mid-phrase."""
    if not item:
        return None
    if not item_problems(item, slot, fields):
        return item
    _, most = char_limits(slot, fields)
    if most is None or len(item) <= most:
        return None
    cuts = [m.start() for m in re.finditer(r"[,;:.|]|\s[-–—]\s", item) if 0 < m.start() <= most + 1]
    for cut in reversed(cuts):
        head = item[:cut].rstrip(" ,;:-–—|")
        if len(head) > most:
            continue
        words = head.split()
        if len(words) >= 3 and words[-1].lower() not in _TAIL_WORDS:
            if slot.get("end_punctuation") == "required":
                head += "."
            if not item_problems(head, slot, fields):
                return head
    return None


def similar(a: str, b: str) -> float:
    """Word overlap of two items (Jaccard), to keep near-duplicates out of one variant."""
    wa, wb = set(re.findall(r"\w+", a.lower())), set(re.findall(r"\w+", b.lower()))
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0
