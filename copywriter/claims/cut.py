"""Taking out what the brief does not support: the sentences of a long-form text that carry an
unsupported claim, as a careful editor would before the copy is shown.

``cut_unsupported(text, support=..., banned=...)`` finds the unsupported claims
(``check.check_claims``) and takes out each sentence that holds one: a sentence of a paragraph,
a bullet, a heading. Lines and the blank lines between paragraphs stay as they were; a line left
with nothing goes. What was taken out is returned with the claims that condemned it, so the page
can list it and the marketer can put a sentence back (nothing is dropped silently).

The cut is refused, and the text shown whole with its claims marked, when it would leave too
little (more than half of the words taken out) or take out every mention of the product. A
second pass runs when the first leaves a claim (a contradiction read across two sentences).
Plain Python, no Django: the worker calls it for long-form candidates under the workspace's
"cut" claims policy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from copywriter.claims.check import Claim, check_claims
from copywriter.core.text import contains

MOST_TAKEN = 0.5  # share of the words a cut may take out; more, and the text is shown marked
PASSES = 2
# A sentence ends at . ! or ? (closing quotes and brackets go with it) before a space; "e.g. x",
# "3.5" and "Dr. Jones" are not ends (a lower-case word or a digit follows, or no space does).
_END = re.compile(r"[.!?]+[\"'”’)\]]*\s+(?=[^a-z\s])")
_WORD = re.compile(r"[\w'’-]+")


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


def _words(text: str) -> int:
    return len(_WORD.findall(text))


_EMPTIED = re.compile(r"\s*(?:[-*•·]|\d{1,2}[.)]|#+)?\s*")  # nothing left but a marker


def _one_pass(text: str, claims: Sequence[Claim]) -> tuple[str, list[dict[str, Any]]]:
    """Each sentence holding an unsupported claim taken out, line by line: a line the cut
    empties goes (a bullet marker alone, a heading's hashes), blank lines stay, and a run of
    blank lines left where a paragraph went closes up."""
    spans = sentences(text)
    doomed: dict[tuple[int, int], list[Claim]] = {}
    for claim in (c for c in claims if not c.supported):
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
        if mine and _EMPTIED.fullmatch(kept):
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
    """The text less every sentence with an unsupported claim, and what was taken out; the text
    unchanged (``refused`` says why) where the cut would leave too little or lose the product."""
    report = check_claims(text, support=support, banned=banned)
    if not report.unsupported:
        return Cut(text=text)
    now, taken = text, []
    for _ in range(PASSES):
        now, more = _one_pass(now, report.claims)
        taken += more
        report = check_claims(now, support=support, banned=banned)
        if not report.unsupported:
            break
    words = _words(text)
    if words and _words(now) < words * (1 - MOST_TAKEN):
        return Cut(text=text, refused=f"taking out the {len(taken)} sentence(s) with unsupported "
                                      "claims would leave less than half of the text")
    if product and contains(text, product) and not contains(now, product):
        return Cut(text=text, refused="taking out the sentences with unsupported claims would "
                                      "take out every mention of the product")
    return Cut(text=now, taken_out=taken)
