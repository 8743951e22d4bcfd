"""Taking out what the brief does not support: the sentences of a long-form text that carry an
unsupported claim or a blank left to fill, as a careful editor would before the copy is shown.

``fill_blanks(text, fields)`` first fills a blank the brief answers ("[Company Name]" with the
``company_name`` field's value, when exactly one field's name or label says it).
``cut_unsupported(text, support=..., banned=...)`` then finds the unsupported claims
(``check.check_claims``) and the blanks still left ("[Client]", "XX%") and takes out each
sentence that holds one: a sentence of a paragraph, a bullet, a heading. Lines and the blank
lines between paragraphs stay as they were; a line left with nothing goes. What was taken out
is returned with the claims that condemned it, so the page can list it and the marketer can
put a sentence back (nothing is dropped silently).

The cut is refused, and the text shown whole with its claims marked, when it would leave too
little (more than half of the words taken out) or take out every mention of the product. A
second pass runs when the first leaves a claim (a contradiction read across two sentences).
Plain Python, no Django: the worker calls it for long-form candidates under the workspace's
"cut" claims policy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from copywriter.claims.check import Claim, check_claims
from copywriter.core.text import contains, placeholder_spans

MOST_TAKEN = 0.5  # share of the words a cut may take out; more, and the text is shown marked
PASSES = 2
# A sentence ends at . ! or ? (closing quotes and brackets go with it) before a space; "e.g. x",
# "3.5" and "Dr. Jones" are not ends (a lower-case word or a digit follows, or no space does).
# Possessive runs, started only at a run's first mark: linear on "....." (tests/security).
_END = re.compile(r"(?<![.!?])[.!?]++[\"'”’)\]]*+\s++(?=[^a-z\s])")
_WORD = re.compile(r"[\w'’-]+")
_BLANK_FILLER = {"your", "the", "a", "an", "our", "insert", "add", "enter", "here", "of", "s"}
BLANK = "a blank to fill"


@dataclass
class Cut:
    text: str
    taken_out: list[dict[str, Any]] = field(default_factory=list)  # {"sentence", "claims"}
    refused: str = ""  # why nothing was taken out although a claim is unsupported

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"taken_out": self.taken_out}
        if self.refused:
            out["refused"] = self.refused
        return out


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, line by line: a sentence never runs over a line break,
    so a heading, a bullet or a sign-off is a sentence of its own."""
    spans = []
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        start = 0
        for m in _END.finditer(body):
            spans.append((pos + start, pos + m.end()))
            start = m.end()
        if body[start:].strip():
            spans.append((pos + start, pos + len(body)))
        pos += len(line)
    return [(s, e) for s, e in spans if text[s:e].strip()]


def fill_blanks(text: str, fields: Mapping[str, Any],
                labels: Mapping[str, str] | None = None) -> tuple[str, list[dict[str, str]]]:
    """Each blank the brief answers, filled: its words ("your", "insert" aside) are all among
    the words of exactly one field's name or label, whose value is one short line ("[Company
    Name]", "[Company]" -> ``company_name``; "[Name]" where the brief has a product name and a
    contact name stays a blank). The text, and what was filled with what."""
    labels = labels or {}
    named = []
    for name, value in fields.items():
        value = str(value or "").strip()
        if value and "\n" not in value and len(value) <= 60:
            words = set(re.findall(r"[a-z]+", f"{name.replace('_', ' ')} {labels.get(name, '')}".lower()))
            named.append((words, value))
    filled: list[dict[str, str]] = []
    for start, end in sorted(placeholder_spans(text), reverse=True):
        blank = text[start:end]
        want = set(re.findall(r"[a-z]+", blank.lower())) - _BLANK_FILLER
        values = {v for words, v in named if want and want <= words}
        if len(values) == 1:
            value = values.pop()
            text = text[:start] + value + text[end:]
            filled.insert(0, {"blank": blank, "value": value})
    return text, filled


def _words(text: str) -> int:
    return len(_WORD.findall(text))


_MARKER = re.compile(r"[-*•·]|\d{1,2}[.)]|#+")  # a line with nothing left but a list marker


def _blanks(text: str) -> list[Claim]:
    return [Claim(s, e, text[s:e], "blank", False, BLANK) for s, e in placeholder_spans(text)]


def _one_pass(text: str, faults: Sequence[Claim]) -> tuple[str, list[dict[str, Any]]]:
    """Each sentence holding one of ``faults`` (unsupported claims, blanks) taken out, line by
    line: a line the cut empties goes (a bullet marker alone, a heading's hashes), blank lines
    stay, and a run of blank lines left where a paragraph went closes up."""
    spans = sentences(text)
    doomed: dict[tuple[int, int], list[Claim]] = {}
    for claim in faults:
        for span in spans:
            if span[0] <= claim.start < span[1]:
                doomed.setdefault(span, []).append(claim)
                break
    out: list[str] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        end = pos + len(line)
        mine = sorted(s for s in doomed if pos <= s[0] < end)
        body, last = [], pos
        for s, e in mine:
            body.append(text[last:s])
            last = e
        body.append(text[last:end])
        kept = "".join(body).rstrip()
        pos = end
        if mine and (not kept.strip() or _MARKER.fullmatch(kept.strip())):
            continue
        if not kept.strip() and (not out or not out[-1].strip()):
            continue  # a second blank line in a row, or one at the top
        out.append(re.sub(r"(\S)  +", r"\1 ", kept) if mine else kept)
    while out and not out[-1].strip():
        out.pop()
    taken = [{"sentence": " ".join(text[s:e].split()),
              "claims": [{"text": c.text, "kind": c.kind, "reason": c.reason} for c in doomed[(s, e)]]}
             for s, e in sorted(doomed)]
    return "\n".join(out), taken


def cut_unsupported(text: str, *, support: Sequence[str], banned: Sequence[str] = (),
                    product: str = "") -> Cut:
    """The text less every sentence with an unsupported claim or a blank, and what was taken
    out; the text unchanged (``refused`` says why) where the cut would leave too little or lose
    the product."""
    def faults(t: str) -> list[Claim]:
        return [c for c in check_claims(t, support=support, banned=banned).claims
                if not c.supported] + _blanks(t)

    found = faults(text)
    if not found:
        return Cut(text=text)
    now, taken = text, []
    for _ in range(PASSES):
        now, more = _one_pass(now, found)
        taken += more
        found = faults(now)
        if not found:
            break
    words = _words(text)
    if words and _words(now) < words * (1 - MOST_TAKEN):
        return Cut(text=text, refused=f"taking out the {len(taken)} sentence(s) with unsupported "
                                      "claims or blanks would leave less than half of the text")
    if product and contains(text, product) and not contains(now, product):
        return Cut(text=text, refused="taking out the sentences with unsupported claims or blanks "
                                      "would take out every mention of the product")
    return Cut(text=now, taken_out=taken)
