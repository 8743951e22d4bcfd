"""Best of N: which of a variant's written candidates is shown, and why (one documented scorer).

Hard filters first: a candidate that leaves a placeholder, repeats the prompt's instructions,
stops mid-sentence, leaves out the product's name, or that a review stage wants rewritten (it
copies a source; under "write again" it has an unsupported claim) ranks below every candidate
that passes them all. Then a score, higher is better:

    2.0 x fact coverage     share of the brief's facts the text carries
  + 1.0 x keyword           the brief's search term, as a phrase
  + 0.5 x product           the product's name (long-form: a hard filter as well)
  + 0.5 x fluency           the model's own mean log-probability per token, mapped -3..-0.5 -> 0..1
  + 0.5 x distinctness      1 - word overlap with the variants already shown for this generation
  - 1.0 x claims            unsupported claims (numbers, superlatives, names...), at most 3

Slot items are chosen the same way, one item at a time: hard filters are the slot's rules (an
item over its limit is never shown), placeholders and blanks, echoes, instructions read back,
near-copies of the variant's other items or of the template's example, a line that says nothing
from the brief or talks about the writing job ("The email is about ...", "140 characters"), and
any claim the brief does not support; the score counts facts touched, the
search term (first item), the product and fluency.
The breakdown is stored with the variant ("why this one" on the page). docs/quality.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from copywriter.claims.check import check_claims
from copywriter.claims.review import support_of
from copywriter.core.text import contains, echoed_instructions, placeholders
from copywriter.pipeline.slots import brief_words, job_talk, keyword_of, not_copy, similar

WEIGHTS = {"facts": 2.0, "keyword": 1.0, "product": 0.5, "fluency": 0.5, "distinct": 0.5,
           "claims": -1.0}
PRODUCT_FIELDS = ("product_name", "brand_name", "brand", "company_name", "company",
                  "business_name", "business", "app_name", "app", "product", "service",
                  "event_name", "event", "course_name", "course", "property", "hotel",
                  "restaurant", "venue", "shop", "store", "organisation", "organization",
                  "charity", "podcast_name", "podcast", "show")
NEAR_COPY = 0.6  # word overlap at which two items of one variant count as the same item
_STOP = {"the", "and", "for", "with", "your", "our", "you", "from", "that", "this", "are", "was",
         "will", "per", "all", "any", "can", "not", "but", "has", "have", "its", "into", "their"}
_CAPS_RUN = re.compile(r"(?:[A-Z][\w'’&.-]*)(?:\s+(?:&|of|and|the|[A-Z][\w'’&.-]*))*")


@dataclass
class Brief:
    product: str
    keyword: str
    facts: list[str]
    values: list[str]
    prompt: str
    support: list[str]
    banned: list[str]

    # Read once per brief, not once per item candidate.
    @cached_property
    def key_stems(self) -> set[str]:
        """First five letters of the support's key words of 4+ letters."""
        return {w[:5] for v in self.support for w in _key_words(v) if not w.isdigit() and len(w) >= 4}

    @cached_property
    def said(self) -> str:
        """The support in lower case, for job talk the brief itself uses."""
        return " ".join(self.support).lower()

    @cached_property
    def said_stems(self) -> set[str]:
        return brief_words(self.said)

    @cached_property
    def own_stems(self) -> set[str]:
        """Stems of 5+ letter words of the support and the prompt (the brief's own words)."""
        return {s for v in self.support for s in _stems(v)} | _stems(self.prompt)


def product_of(fields: Mapping[str, Any]) -> str:
    """The name the copy should carry: a brand-like or ``*_name`` field's value when it is short,
    else the longest run of capitalised words in the first product-like field ("Brightpath" in
    "Brightpath online maths tutoring"), else the first name in any field ("Northpeak" in
    "Category page for Northpeak waterproof hiking jackets", "Pageturn Books" in "Pageturn Books
    is hosting ..."); "" when the brief names nothing."""
    for name, value in fields.items():
        value = " ".join(str(value or "").split())
        if name.endswith("_name") and value and len(value) <= 40:
            return value
    for name in PRODUCT_FIELDS:
        value = " ".join(str(fields.get(name) or "").split())
        if not value:
            continue
        if name in ("brand", "company", "business") and len(value) <= 40:
            return value
        runs = [m.group(0).rstrip(" .&") for m in _CAPS_RUN.finditer(value)]
        runs = [r for r in runs if len(r) >= 3]
        if runs:
            return max(runs, key=len)
    for value in fields.values():
        if found := _first_name(" ".join(str(value or "").split())):
            return found
    return ""


def _first_name(text: str) -> str:
    """The first run of capitalised words that is a name, not ordinary words in capitals (the
    start of a sentence, a title in title case): a word the template library writes in lower
    case somewhere ("Category", "Our", "Reminder") is ordinary, and a run of only such words is
    no name; a run led by one and a joining word ("Comparing the Kindle Paperwhite") loses
    them."""
    common = _common_words()
    for m in _CAPS_RUN.finditer(text):
        words = re.sub(r"['’]s$", "", m.group(0).rstrip(" .&")).split()
        while len(words) > 2 and words[0].lower() in common and words[1].lower() in ("the", "of", "and", "&"):
            words = words[2:]
        while words and words[-1].lower() in ("the", "of", "and", "&"):
            words.pop()
        if all(w.lower() in common for w in words):  # "Our", a title in title case
            continue
        run = " ".join(words)
        if len(run) >= 3 and not run.isupper():
            return run
    return ""


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    """Words the template library writes in lower case: ordinary words (about 6,800), not names."""
    out: set[str] = set()
    for path in Path(settings.TEMPLATES_LIB_DIR).rglob("*.yaml"):
        out.update(re.findall(r"\b[a-z][a-z'’-]+\b", path.read_text(encoding="utf-8")))
    return frozenset(out)


def facts_of(fields: Mapping[str, Any], *, skip: Sequence[str]) -> list[str]:
    """The brief's facts: its field values cut at commas, semicolons and line breaks."""
    out = []
    for name, value in fields.items():
        if name in skip or name in ("tone", "length", "count", "platform", "language"):
            continue
        for part in re.split(r"[,;\n•]|\s[-–—]\s", str(value or "")):
            part = part.strip(" .")
            if _key_words(part) or re.search(r"\d", part):
                out.append(part)
    return out


def _key_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9][a-z0-9'’]+", text.lower())
            if (len(w) >= 3 and w not in _STOP) or w.isdigit()]


def carried(text: str, fact: str) -> bool:
    """A fact is carried when one of its numbers, or half of its key words (by their first five
    letters), is in the text."""
    numbers = re.findall(r"\d+(?:[.,]\d+)?", fact)
    if numbers and any(re.search(r"(?<![\d.])" + re.escape(n) + r"(?![\d])", text) for n in numbers):
        return True
    keys = {w[:5] for w in _key_words(fact) if not w.isdigit()}
    if not keys:
        return False
    have = {w[:5] for w in _key_words(text)}
    return len(keys & have) * 2 >= len(keys)


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _key_words(text) if not w.isdigit() and len(w) >= 5}


def _foreign_words(examples: Sequence[str], example_brief: str, brief: Brief) -> set[str]:
    """Facts of the template's example that this brief never uses: words of its items that are
    also in the example's own brief (``example_brief``: the sample's field values) and nowhere
    in this brief. An item with one took a fact from another brief ("Grain-free treats" in an
    ad for pellet stoves); the example's other words ("today", "yours", "great") are anyone's."""
    if not examples or not example_brief:
        return set()
    return ({s for e in examples for s in _stems(e)} & _stems(example_brief)) - brief.own_stems


def _touches_brief(item: str, brief: Brief) -> bool:
    """At least one key word of the brief (by its first five letters) or its product: a line
    such as "What does that say about you?" or "I'm not an AI." is not copy for this brief."""
    if brief.product and contains(item, brief.product):
        return True
    mine = {w[:5] for w in _key_words(item) if not w.isdigit() and len(w) >= 4}
    return bool(mine & brief.key_stems)


def brief_of(gen: Any) -> Brief:
    fields = {k: str(v) for k, v in (gen.fields or {}).items() if v not in (None, "")}
    product = product_of(fields)
    keyword = keyword_of(fields)
    skip = [n for n in fields if fields[n] in (product, keyword)]
    facts = dict(gen.facts or {})
    known = [str(f) for f in [*facts.get("facts", []), *facts.get("approved", [])]]
    # what supports a claim: the same for the scorer, the worker's cut and the claims stage
    support, banned = support_of(gen)
    return Brief(product=product, keyword=keyword,
                 facts=facts_of(fields, skip=skip) + known, values=list(fields.values()),
                 prompt=gen.prompt, support=[s for s in support if s], banned=banned)


@dataclass
class Scored:
    failed: list[str]
    score: float
    parts: dict[str, float] = field(default_factory=dict)

    def key(self) -> tuple[int, float]:
        return (len(self.failed), -self.score)

    def as_dict(self) -> dict[str, Any]:
        return {"failed": self.failed, "score": round(self.score, 3),
                "parts": {k: round(v, 3) for k, v in self.parts.items()}}


def fluency(logprob: float, tokens: int) -> float:
    if tokens <= 0:
        return 0.0
    return min(1.0, max(0.0, (logprob / tokens + 3.0) / 2.5))


def _total(parts: Mapping[str, float]) -> float:
    return sum(WEIGHTS[k] * v for k, v in parts.items())


def score_text(text: str, *, brief: Brief, logprob: float, tokens: int, finish_reason: str,
               stage_failures: Sequence[str] = (), shown: Sequence[str] = (),
               unsupported: int | None = None, long_form: bool = True) -> Scored:
    failed = list(stage_failures)
    if not text.strip():
        failed.append("empty")
    if placeholders(text):
        failed.append("leaves a placeholder")
    if echoed_instructions(text, prompt=brief.prompt, field_values=brief.values):
        failed.append("repeats the instructions")
    if long_form and finish_reason == "length" and not re.search(r"[.!?)\"'”]\s*$", text):
        failed.append("stops mid-sentence")
    named = contains(text, brief.product) if brief.product else None
    if long_form and named is False:
        failed.append("leaves out the product's name")
    if unsupported is None:
        unsupported = check_claims(text, support=brief.support, banned=brief.banned).unsupported
    parts = {
        "facts": (sum(carried(text, f) for f in brief.facts) / len(brief.facts)) if brief.facts else 0.0,
        "keyword": float(contains(text, brief.keyword)) if brief.keyword else 0.0,
        "product": float(bool(named)),
        "fluency": fluency(logprob, tokens),
        "distinct": 1.0 - max((similar(text, s) for s in shown), default=0.0),
        "claims": float(min(unsupported, 3)),
    }
    return Scored(failed=failed, score=_total(parts), parts=parts)


def score_item(item: str | None, raw: str, *, brief: Brief, logprob: float, tokens: int,
               others: Sequence[str], first: bool, examples: Sequence[str] = (),
               example_brief: str = "", slot: Mapping[str, Any] | None = None) -> Scored:
    """One slot item candidate (``item``: the text as it would be shown, None when it breaks its
    slot even after a clean cut; ``slot``: its slot, for talk about the job)."""
    if item is None:
        return Scored(failed=[f"breaks its slot: {raw[:60]!r}"], score=0.0)
    failed = [why] if (why := not_copy(item)) else []
    if talk := job_talk(item, slot or {"name": ""}, brief.said, brief.said_stems):
        failed.append(talk)
    if placeholders(item):
        failed.append("leaves a placeholder")
    if not _touches_brief(item, brief):
        failed.append("says nothing from the brief")
    if re.search(r"https?://|www\.", item) and not any(u in item for u in brief.values):
        failed.append("has a web address the brief does not give")
    if echoed_instructions(item, prompt=brief.prompt, field_values=brief.values):
        failed.append("repeats the instructions")
    if any(similar(item, o) >= NEAR_COPY for o in others):
        failed.append("near-copy of another item")
    if any(similar(item, e) >= NEAR_COPY for e in examples):
        failed.append("copies the template's example")
    borrowed = _foreign_words(examples, example_brief, brief) & _stems(item)
    if borrowed:
        failed.append("borrows the example's facts")
    unsupported = check_claims(item, support=brief.support, banned=brief.banned).unsupported
    if unsupported:
        # An item is short and cheap to write again: one with a claim the brief does not
        # support is never chosen (a long-form candidate only loses points for it).
        failed.append("claims what the brief does not say")
    parts = {
        "facts": float(any(carried(item, f) for f in brief.facts)),
        "keyword": float(first and bool(brief.keyword) and contains(item, brief.keyword)),
        "product": float(bool(brief.product) and contains(item, brief.product)),
        "fluency": fluency(logprob, tokens),
        "distinct": 1.0 - max((similar(item, o) for o in others), default=0.0),
        "claims": float(min(unsupported, 3)),
    }
    return Scored(failed=failed, score=_total(parts), parts=parts)
