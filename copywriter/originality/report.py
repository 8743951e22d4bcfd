"""Building an originality report from nearest-neighbour candidates. Plain Python (no Django,
no torch): the database check, the in-memory command-line check and the benchmarks share it, and
all of them decide with ``decision.decide``.

A report is JSON (it is stored in ``Variant.originality`` and ``OriginalityCheck.report``)::

    {"version": 2, "verdict": "original" | "note" | "paraphrase" | "copy",
     "explanation": "4 of 6 sentences follow 'Spring catalogue' in order, in other words.",
     "score": 0.93, "overlap": 0.41, "coverage": 0.67, "aligned": 4, "sentences": 6,
     "passages_checked": 12, "thresholds": {...},
     "match": {...the evidence behind the verdict, or null...}, "matches": [...up to 5...]}

and each match::

    {"source": {"kind": "document", "id": 5, "title": "...", ...},
     "similarity": 0.93, "overlap": 0.41, "span_overlap": 0.8, "verdict": "copy",
     "text_span": {"start": 10, "end": 80, "segments": [["words ", false], ["copied", true]]},
     "source_span": {"start": 0, "end": 70, "before": "...", "after": "...", "segments": [...]}}

``score`` is the highest passage similarity (cosine, 0..1); ``overlap`` is the share of the
checked text's word 5-grams found in the source behind the verdict (verbatim copying);
``coverage`` the share of the text's words that follow that source in order; a match's
``verdict`` is its source's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from copywriter.originality import decision as D
from copywriter.originality import text as T

REPORT_VERSION = 2
MAX_MATCHES = 5
# Matches below this similarity are not listed (they are noise for any threshold one would pick).
LIST_FLOOR = 0.55
CONTEXT_CHARS = 160


@dataclass(frozen=True)
class Source:
    """Where a corpus passage comes from. ``key`` is unique per source text; ``info`` is what the
    report shows (kind, ids, title): never more than the checking workspace may see. ``role``
    says how the decision weighs it (``decision.FINDING``, ``OWN_DRAFT``, ``BULK_ROW``)."""

    key: str
    info: dict[str, Any]
    text: str
    role: str = D.FINDING


@dataclass(frozen=True)
class Candidate:
    query: int  # index into the checked text's passages
    source: Source
    start: int
    end: int
    similarity: float


def _segments(span: str, other: str) -> list[list[Any]]:
    """Split ``span`` into runs of words shared verbatim (as 5-grams) with ``other`` and the rest,
    keeping the original characters, so a template can mark the copied words."""
    import re

    shared = T.shared_ngrams(span, other)
    tokens = list(re.finditer(T._WORD.pattern, span))
    lowered = [m.group(0).lower().replace("\u2019", "'") for m in tokens]
    n = min(T.NGRAM, len(lowered)) if lowered else T.NGRAM
    marked = [False] * len(tokens)
    for i in range(len(lowered) - n + 1):
        if tuple(lowered[i:i + n]) in shared:
            for j in range(i, i + n):
                marked[j] = True
    out: list[list[Any]] = []
    pos = 0
    for m, flag in zip(tokens, marked, strict=True):
        gap = span[pos:m.start()]
        if out and out[-1][1] == flag:
            out[-1][0] += gap + m.group(0)
        elif out and not out[-1][1]:  # the space between plain and copied words stays plain
            out[-1][0] += gap
            out.append([m.group(0), flag])
        else:
            out.append([gap + m.group(0), flag])
        pos = m.end()
    if pos < len(span):  # closing punctuation goes with the last words
        if out:
            out[-1][0] += span[pos:]
        else:
            out.append([span[pos:], False])
    return out


def build_report(text: str, query: Sequence[T.Passage], candidates: Iterable[Candidate],
                 thresholds: T.Thresholds, *, given: str = "",
                 topic: Sequence[float] | None = None) -> dict[str, Any]:
    """The verdict of ``decision.decide`` and its evidence. ``candidates`` must already be
    limited to what the caller may see; ``given`` is the requester's input (brief, fields) and
    ``topic`` each checked passage's similarity to it."""
    cands = list(candidates)
    d = D.decide(text, query, cands, thresholds, given=given, topic=topic)
    listed: list[tuple[Candidate, D.Finding]] = []

    def add(c: Candidate, f: D.Finding) -> None:
        if len(listed) < MAX_MATCHES and not any(_same_evidence(c, o, query) for o, _ in listed):
            listed.append((c, f))

    # The evidence of the verdict first (its in-order chain), then the closest passage of each
    # other source worth showing.
    for f in d.findings:
        if f.verdict == T.ORIGINAL:
            continue
        for c in f.chain:
            add(c, f)
    for f in d.findings:
        for c in sorted(f.chain or [], key=lambda c: -c.similarity)[:1]:
            if c.similarity >= LIST_FLOOR:
                add(c, f)
    by_source = {f.source.key: f for f in d.findings}
    for c in sorted(cands, key=lambda c: -c.similarity):
        found = by_source.get(c.source.key)
        if found is not None and c.similarity >= LIST_FLOOR:
            add(c, found)
    best = d.best
    match = next((c for c, f in listed if best is not None and f is best), None)
    score = max((f.score for f in d.findings), default=0.0)
    return {
        "version": REPORT_VERSION,
        "verdict": d.verdict,
        "explanation": d.explanation,
        "score": round(max(0.0, score), 4),
        "overlap": round(best.verbatim.raw5, 4) if best and best.verdict != T.ORIGINAL else 0.0,
        "coverage": best.coverage if best and best.verdict != T.ORIGINAL else 0.0,
        "aligned": best.aligned if best and best.verdict != T.ORIGINAL else 0,
        "sentences": best.counted if best else sum(1 for _ in T.units(text)),
        "passages_checked": len(query),
        "thresholds": thresholds.as_json(),
        "match": _match_json(match, best, text, query) if match is not None and best else None,
        "matches": [_match_json(c, f, text, query) for c, f in listed],
    }


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    return inter > 0.5 * min(a[1] - a[0], b[1] - b[0])


def _same_evidence(c: Candidate, other: Candidate, query: Sequence[T.Passage]) -> bool:
    """Windows overlap their sentences: list one match per stretch of text and source."""
    qa, qb = query[c.query], query[other.query]
    return (_overlaps((qa.start, qa.end), (qb.start, qb.end))
            or (c.source.key == other.source.key
                and _overlaps((c.start, c.end), (other.start, other.end))))


def _match_json(c: Candidate, f: D.Finding, text: str, query: Sequence[T.Passage]) -> dict[str, Any]:
    q = query[c.query]
    src = c.source.text
    s, e = c.start, c.end
    span = src[s:e]
    before = src[max(0, s - CONTEXT_CHARS):s]
    after = src[e:e + CONTEXT_CHARS]
    return {
        "source": dict(c.source.info),
        "similarity": round(c.similarity, 4),
        "overlap": round(f.verbatim.raw5, 4),
        "span_overlap": round(T.overlap(q.text, span).ratio, 4),
        "verdict": f.verdict,
        "text_span": {"start": q.start, "end": q.end, "segments": _segments(text[q.start:q.end], span)},
        "source_span": {"start": s, "end": e, "before": ("\u2026" if s > CONTEXT_CHARS else "") + before,
                        "after": after + ("\u2026" if e + CONTEXT_CHARS < len(src) else ""),
                        "segments": _segments(span, text[q.start:q.end])},
    }
