"""Building an originality report from nearest-neighbour candidates. Plain Python (no Django,
no torch): the database check, the in-memory command-line check and the benchmarks share it.

A report is JSON (it is stored in ``Variant.originality`` and ``OriginalityCheck.report``)::

    {"version": 1, "verdict": "original" | "paraphrase" | "copy", "score": 0.93,
     "overlap": 0.41, "passages_checked": 12, "thresholds": {...},
     "match": {...the match behind the verdict, or null...}, "matches": [...up to 5...]}

and each match::

    {"source": {"kind": "document", "id": 5, "title": "...", ...},
     "similarity": 0.93, "overlap": 0.41, "span_overlap": 0.8, "verdict": "copy",
     "text_span": {"start": 10, "end": 80, "segments": [["words ", false], ["copied", true]]},
     "source_span": {"start": 0, "end": 70, "before": "...", "after": "...", "segments": [...]}}

``score`` is the highest passage similarity (cosine, 0..1); ``overlap`` is the share of the
checked text's word 5-grams found in the matched source (verbatim copying); ``span_overlap``
the same for the two matched spans only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from copywriter.originality import text as T

REPORT_VERSION = 1
MAX_MATCHES = 5
# Matches below this similarity are not listed (they are noise for any threshold one would pick).
LIST_FLOOR = 0.55
CONTEXT_CHARS = 160


@dataclass(frozen=True)
class Source:
    """Where a corpus passage comes from. ``key`` is unique per source text; ``info`` is what the
    report shows (kind, ids, title): never more than the checking workspace may see."""

    key: str
    info: dict[str, Any]
    text: str


@dataclass(frozen=True)
class Candidate:
    query: int  # index into the checked text's passages
    source: Source
    start: int
    end: int
    similarity: float


@dataclass
class Pair:
    """A checked passage and a corpus passage, scored."""

    cand: Candidate
    span: T.Overlap
    whole: T.Overlap
    span_words: int
    verdict: str = T.ORIGINAL


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


def score_pairs(text: str, query: Sequence[T.Passage], candidates: Iterable[Candidate],
                thresholds: T.Thresholds) -> list[Pair]:
    """Every candidate with its overlaps and verdict, most severe (then most similar) first."""
    whole_by_source: dict[str, T.Overlap] = {}
    pairs: list[Pair] = []
    for c in candidates:
        if c.source.key not in whole_by_source:
            whole_by_source[c.source.key] = T.overlap(text, c.source.text)
        q = query[c.query]
        p = Pair(c, T.overlap(q.text, c.source.text[c.start:c.end]), whole_by_source[c.source.key],
                 len(T.words(q.text)))
        p.verdict = T.verdict(similarity=c.similarity, span=p.span, whole=p.whole,
                              span_words=p.span_words, t=thresholds)
        pairs.append(p)
    pairs.sort(key=lambda p: (T.SEVERITY[p.verdict], round(p.cand.similarity, 6), p.span.ratio),
               reverse=True)
    return pairs


def build_report(text: str, query: Sequence[T.Passage], candidates: Iterable[Candidate],
                 thresholds: T.Thresholds) -> dict[str, Any]:
    """The verdict is the most severe one over all (checked passage, corpus passage) pairs; the
    evidence is that pair. ``candidates`` must already be limited to what the caller may see."""
    pairs = score_pairs(text, query, candidates, thresholds)
    score = max((p.cand.similarity for p in pairs), default=0.0)
    best = pairs[0] if pairs else None
    listed: list[Pair] = []
    for p in pairs:
        if len(listed) >= MAX_MATCHES:
            break
        if p.verdict == T.ORIGINAL and p.cand.similarity < LIST_FLOOR:
            continue
        if any(_same_evidence(p, other, query) for other in listed):
            continue
        listed.append(p)
    return {
        "version": REPORT_VERSION,
        "verdict": best.verdict if best else T.ORIGINAL,
        "score": round(max(0.0, score), 4),
        "overlap": round(best.whole.ratio, 4) if best else 0.0,
        "passages_checked": len(query),
        "thresholds": {"paraphrase": thresholds.paraphrase, "copy_overlap": thresholds.copy_overlap},
        "match": _match_json(best, text, query) if best and best in listed else None,
        "matches": [_match_json(p, text, query) for p in listed],
    }


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    return inter > 0.5 * min(a[1] - a[0], b[1] - b[0])


def _same_evidence(p: Pair, other: Pair, query: Sequence[T.Passage]) -> bool:
    """Windows overlap their sentences: list one match per stretch of text and source."""
    qa, qb = query[p.cand.query], query[other.cand.query]
    return (_overlaps((qa.start, qa.end), (qb.start, qb.end))
            or (p.cand.source.key == other.cand.source.key
                and _overlaps((p.cand.start, p.cand.end), (other.cand.start, other.cand.end))))


def _match_json(p: Pair, text: str, query: Sequence[T.Passage]) -> dict[str, Any]:
    q = query[p.cand.query]
    src = p.cand.source.text
    s, e = p.cand.start, p.cand.end
    span = src[s:e]
    before = src[max(0, s - CONTEXT_CHARS):s]
    after = src[e:e + CONTEXT_CHARS]
    return {
        "source": dict(p.cand.source.info),
        "similarity": round(p.cand.similarity, 4),
        "overlap": round(p.whole.ratio, 4),
        "span_overlap": round(p.span.ratio, 4),
        "verdict": p.verdict,
        "text_span": {"start": q.start, "end": q.end, "segments": _segments(text[q.start:q.end], span)},
        "source_span": {"start": s, "end": e, "before": ("\u2026" if s > CONTEXT_CHARS else "") + before,
                        "after": after + ("\u2026" if e + CONTEXT_CHARS < len(src) else ""),
                        "segments": _segments(span, text[q.start:q.end])},
    }


def empty_report(thresholds: T.Thresholds, *, note: str = "") -> dict[str, Any]:
    report = build_report("", [], [], thresholds)
    if note:
        report["note"] = note
    return report
