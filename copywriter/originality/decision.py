"""The originality decision, made on the whole checked text against one source at a time.

Plain Python (no Django, no torch): the worker's review, the document check and
``manage.py check_originality`` all reach it through ``report.build_report``.

It follows the text-alignment step of plagiarism detectors (PAN: seed, extend, filter):

- **seed**: a sentence of the checked text and a place in the source that say the same thing
  (a checked passage whose cosine similarity to a source passage reaches the seed floor) or
  share words verbatim (a 5-word run that is not made of the brief's own words, names and
  numbers);
- **extend**: of one source's seeds, the longest chain that runs forward in both texts at once
  ("in order"), weighed by the words of the checked sentences it covers;
- **filter**: what the two texts share only because they are about the same thing does not
  count: word runs that are in the requester's input (the brief, the template fields), and runs
  made only of the input's words, names, numbers and function words.

A text is a **paraphrase** of a source when an in-order chain covers at least ``coverage`` of
its words across at least ``min_sentences`` sentences; a **copy** when, in addition to that or
on its own, words were taken over verbatim (5-word containment at least ``copy_overlap``, or
8-word runs covering ``copy_long`` of the text, or one unbroken run of ``long_run`` words). One
sentence that resembles a source, or a short stock phrase, is a **note**: shown with its
evidence, never a flag, never a reason to rewrite.

Sources are weighed by what they are (``Source.role``): reference texts and other documents are
findings; the requester's own earlier drafts of the same brief and rows of the same bulk run
only count as near-verbatim duplicates (``duplicate``), never for paraphrase or shared shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from copywriter.originality import text as T

if TYPE_CHECKING:
    from copywriter.originality.report import Candidate, Source

FINDING = "finding"  # a reference text or another document of the workspace
OWN_DRAFT = "own_draft"  # the same template with the same fields, generated before
BULK_ROW = "bulk_row"  # another row of the same bulk run
ROLES = (FINDING, OWN_DRAFT, BULK_ROW)

# A sentence this short ("Shop now.", "Free delivery.") neither counts towards nor against the
# share of a text that follows a source.
COUNT_MIN_WORDS = 4
LONG_NGRAM = 8
# Sentences (of any source) at or above this similarity are listed as a note when nothing else
# is found: the old per-sentence paraphrase threshold, kept as the bar for "worth showing".
NOTE_SIMILARITY = 0.82

_NUMBER = re.compile(r"^\d[\d.,]*$")
# Function words: a run made only of these and the brief's own words is shared by any two texts
# about the same product.
STOPWORDS = frozenset("""
a an the and or but nor so yet for of to in on at by with from into onto over under about as
is are was were be been being am do does did done has have had having it its it's this that
these those there here their theirs they them we us our ours you your yours he she his her him
i me my mine who whom whose which what when where why how all any each every both either
neither some no not only just also too very more most less least than then once up down out off
again further can could will would shall should may might must one ones per via if while
""".split())  # noqa: SIM905 - a word list reads better as text


@dataclass(frozen=True)
class Verbatim:
    """Word-run evidence of the checked text in one source, after the filter."""

    shared5: int  # distinct 5-grams of the text found in the source (filtered)
    total5: int
    shared8: int
    total8: int
    longest_run: int  # words in the longest run shared with the source (filtered 5-grams)
    raw5: float  # unfiltered 5-gram containment, the "verbatim overlap" the page shows

    @property
    def c5(self) -> float:
        return self.shared5 / self.total5 if self.total5 else 0.0

    @property
    def c8(self) -> float:
        return self.shared8 / self.total8 if self.total8 else 0.0


@dataclass
class Finding:
    """One source's alignment with the checked text and the verdict it supports."""

    source: Source
    verdict: str
    aligned: int  # counted sentences of the checked text in the in-order chain
    counted: int  # counted sentences of the checked text
    coverage: float  # share of the counted words in the chain
    verbatim: Verbatim
    score: float  # highest passage similarity with this source
    chain: list[Candidate] = field(default_factory=list)  # evidence, in the text's order
    explanation: str = ""

    @property
    def severity(self) -> tuple[float, ...]:
        return (T.SEVERITY[self.verdict], self.coverage, self.verbatim.c5, self.score)


@dataclass
class Decision:
    verdict: str
    explanation: str
    findings: list[Finding]  # most severe first; own drafts / bulk rows only when duplicates
    best: Finding | None


# --- filter -----------------------------------------------------------------------------------

def _topical(gram: tuple[str, ...], given_words: frozenset[str]) -> bool:
    return all(w in STOPWORDS or w in given_words or _NUMBER.match(w) for w in gram)


@dataclass(frozen=True)
class Given:
    """The requester's own input (brief, template fields): its words and its word runs."""

    words: frozenset[str]
    grams: frozenset[tuple[str, ...]]

    @classmethod
    def of(cls, given: str) -> Given:
        w = T.words(given)
        return cls(frozenset(w), frozenset(T.ngrams(w, T.NGRAM)) if len(w) >= T.NGRAM else frozenset())

    def keeps(self, gram: tuple[str, ...]) -> bool:
        """Is a shared run evidence of copying (not the brief's words, names and numbers)?"""
        return gram not in self.grams and not _topical(gram, self.words)

    def holds(self, source_words: Sequence[str]) -> bool:
        """Is ``source`` itself pasted into the input? Then the input explains nothing about
        it: pasting a competitor's page into a field excuses no copy of that page."""
        mine = T.ngrams(source_words, T.NGRAM) if len(source_words) >= T.NGRAM else set()
        return bool(mine) and len(mine & self.grams) >= PASTED * len(mine)


NO_INPUT = Given(frozenset(), frozenset())
# Share of a source's 5-word runs found in the requester's input above which the source counts
# as pasted into it.
PASTED = 0.5


def verbatim(text_words: Sequence[str], source_words: Sequence[str], given: Given) -> Verbatim:
    src5 = T.ngrams(source_words, T.NGRAM) if len(source_words) >= T.NGRAM else set()
    mine5 = T.ngrams(text_words, T.NGRAM) if len(text_words) >= T.NGRAM else set()
    kept5 = {g for g in mine5 & src5 if given.keeps(g)}
    src8 = T.ngrams(source_words, LONG_NGRAM) if len(source_words) >= LONG_NGRAM else set()
    mine8 = T.ngrams(text_words, LONG_NGRAM) if len(text_words) >= LONG_NGRAM else set()
    shared8 = sum(1 for g in mine8 & src8 if any(given.keeps(g[i:i + T.NGRAM])
                                                  for i in range(LONG_NGRAM - T.NGRAM + 1)))
    longest = run = 0
    for i in range(len(text_words) - T.NGRAM + 1):
        if tuple(text_words[i:i + T.NGRAM]) in kept5:
            run = run + 1
            longest = max(longest, run + T.NGRAM - 1)
        else:
            run = 0
    raw = len(mine5 & src5) / len(mine5) if mine5 else 0.0
    return Verbatim(len(kept5), len(mine5), shared8, len(mine8), longest, raw)


def topic_scores(query_vectors: np.ndarray, given_vectors: np.ndarray) -> list[float] | None:
    """Each checked passage's highest similarity to a passage of the requester's input (the
    ``topic`` of ``decide``); None without an input."""
    if not len(given_vectors) or not len(query_vectors):
        return None
    return [float(x) for x in (query_vectors @ given_vectors.T).max(axis=1)]


# --- seed and extend --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Seed:
    unit: int
    pos: float  # where in the source (character offset)
    similarity: float
    cand: Candidate | None


def _unit_ranges(query: Sequence[T.Passage], units: Sequence[T.Span]) -> list[range]:
    out = []
    for p in query:
        inside = [i for i, u in enumerate(units) if u.start >= p.start and u.end <= p.end]
        out.append(range(inside[0], inside[-1] + 1) if inside else range(0))
    return out


def _chain(seeds: list[_Seed], weights: Sequence[int]) -> list[_Seed]:
    """The heaviest chain of seeds that moves forward in the checked text (one seed per
    sentence) and never backwards in the source."""
    seeds = sorted(seeds, key=lambda s: (s.unit, s.pos))
    best: list[float] = []
    back: list[int] = []
    for i, s in enumerate(seeds):
        score, prev = float(weights[s.unit]) + s.similarity * 1e-3, -1
        for j in range(i):
            o = seeds[j]
            if o.unit < s.unit and o.pos <= s.pos and best[j] + weights[s.unit] > score:
                score, prev = best[j] + weights[s.unit] + s.similarity * 1e-3, j
        best.append(score)
        back.append(prev)
    if not seeds:
        return []
    i = max(range(len(seeds)), key=lambda k: best[k])
    out = []
    while i >= 0:
        out.append(seeds[i])
        i = back[i]
    return out[::-1]


def _title(source: Source) -> str:
    title = str(source.info.get("title") or source.info.get("path") or "a source")
    return title if len(title) <= 80 else title[:79] + "\u2026"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _explain(f: Finding, role: str) -> str:
    title = _title(f.source)
    pct = round(f.verbatim.raw5 * 100)
    if role in (OWN_DRAFT, BULK_ROW):
        what = "an earlier draft of this brief" if role == OWN_DRAFT else "another row of this run"
        return (f"Near-verbatim duplicate of {what}, '{title}' ({round(f.verbatim.c5 * 100)}% of "
                "its 5-word sequences, not counting the brief's own words).")
    if f.verdict == T.COPY:
        if f.aligned >= 2:
            return (f"{f.aligned} of {f.counted} sentences follow '{title}' in order, {pct}% of the "
                    "wording verbatim.")
        return f"A run of {f.verbatim.longest_run} words is copied verbatim from '{title}'."
    if f.verdict == T.PARAPHRASE:
        return f"{f.aligned} of {f.counted} sentences follow '{title}' in order, in other words."
    if f.verdict == T.NOTE:
        return (f"One sentence resembles '{title}' (common phrasing on this subject); the rest "
                "does not follow it, so it is a note, not a flag.")
    return ""


def rule(*, aligned: int, coverage: float, vb: Verbatim, score: float, t: T.Thresholds) -> str:
    """The verdict for one source that is a finding, from its alignment with the text."""
    if (vb.c5 >= t.copy_overlap and vb.shared5 >= min(T.MIN_SHARED_NGRAMS, vb.total5)) \
            or (vb.c8 >= t.copy_long and vb.shared8 >= 2) or vb.longest_run >= t.long_run:
        return T.COPY
    if aligned >= t.min_sentences and coverage >= t.coverage:
        return T.PARAPHRASE
    if score >= max(NOTE_SIMILARITY, t.paraphrase) or vb.shared5 > 0:
        return T.NOTE
    return T.ORIGINAL


def _finding(source: Source, cands: list[Candidate], query: Sequence[T.Passage],
             ranges: list[range], units: Sequence[T.Span], weights: list[int], counted: int,
             text_words: list[str], unit_words: list[list[str]], given: Given,
             topic: Sequence[float] | None, t: T.Thresholds) -> Finding:
    role = source.role
    src_words = T.words(source.text)
    pasted = given.holds(src_words)
    if pasted:
        given, topic = NO_INPUT, None
    vb = verbatim(text_words, src_words, given)
    score = max((c.similarity for c in cands), default=0.0)
    total = sum(weights) or 1
    if role in (OWN_DRAFT, BULK_ROW):
        # Only a near-verbatim duplicate counts: the same brief written again, or rows of one
        # catalogue, share shape and facts by design.
        dup = vb.c5 >= t.duplicate and vb.total5 > 0
        verdict = T.COPY if dup else T.ORIGINAL
        shown = sorted(cands, key=lambda c: -c.similarity)[:1] if dup else []
        f = Finding(source, verdict, 0, counted, 0.0, vb, score, shown)
        f.explanation = _explain(f, role) if dup else ""
        return f
    seeds: list[_Seed] = []
    for c in cands:
        p = query[c.query]
        r = ranges[c.query]
        # Without the requester's input (a document check, check_originality) nothing tells a
        # stated fact from a borrowed sentence: a seed must then clear the margin on its own.
        floor = (t.paraphrase + t.window_step * (p_size(p) - 1)
                 + (t.topic_margin if topic is None else 0.0))
        if c.similarity < floor or not len(r):
            continue
        if topic is not None and c.similarity < topic[c.query] + t.topic_margin:
            continue  # the brief says this as well as the source does: a fact, not a borrowing
        for k, u in enumerate(r):
            pos = c.start + (c.end - c.start) * k / len(r)
            seeds.append(_Seed(u, pos, c.similarity, c))
    # Verbatim seeds: a sentence sharing a (filtered) 5-word run with the source, placed where
    # the run is in the source.
    src_index: dict[tuple[str, ...], int] = {}
    spans = [m.start() for m in re.finditer(T._WORD.pattern, source.text)]
    for i in range(len(src_words) - T.NGRAM + 1):
        src_index.setdefault(tuple(src_words[i:i + T.NGRAM]), spans[i] if i < len(spans) else 0)
    for u, ws in enumerate(unit_words):
        for i in range(len(ws) - T.NGRAM + 1):
            g = tuple(ws[i:i + T.NGRAM])
            if g in src_index and given.keeps(g):
                seeds.append(_Seed(u, float(src_index[g]), 1.0, None))
                break
    chain = _chain(seeds, weights)
    aligned = sum(1 for s in chain if weights[s.unit] > 0)
    coverage = round(sum(weights[s.unit] for s in chain) / total, 4)
    verdict = rule(aligned=aligned, coverage=coverage, vb=vb, score=score, t=t)
    evidence: list[Candidate] = []
    for s in chain:
        if s.cand is not None and s.cand not in evidence:
            evidence.append(s.cand)
    if not evidence:
        evidence = sorted(cands, key=lambda c: -c.similarity)[:1]
    f = Finding(source, verdict, aligned, counted, coverage, vb, score, evidence)
    f.explanation = _explain(f, role)
    return f


def p_size(p: T.Passage) -> int:
    return max(1, p.size)


def decide(text: str, query: Sequence[T.Passage], candidates: Iterable[Candidate],
           t: T.Thresholds, *, given: str = "", topic: Sequence[float] | None = None) -> Decision:
    """The verdict on ``text`` from its passages' nearest source passages (``candidates``, already
    limited to what the caller may see). ``given`` is the requester's own input (brief, fields);
    ``topic[i]``, when known, is how similar checked passage ``i`` is to that input: a seed must
    be closer to the source than that (plus ``topic_margin``)."""
    by_source: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_source.setdefault(c.source.key, []).append(c)
    units = T.units(text)
    unit_words = [T.words(u.text) for u in units]
    weights = [len(w) if len(w) >= COUNT_MIN_WORDS else 0 for w in unit_words]
    if units and not any(weights):  # a text of short lines only: every line counts
        weights = [len(w) for w in unit_words]
    counted = sum(1 for w in weights if w)
    ranges = _unit_ranges(query, units)
    text_words = T.words(text)
    g = Given.of(given)
    findings = [_finding(cands[0].source, cands, query, ranges, units, weights, counted, text_words,
                         unit_words, g, topic, t) for cands in by_source.values()]
    findings = [f for f in findings if f.source.role == FINDING or f.verdict != T.ORIGINAL]
    findings.sort(key=lambda f: f.severity, reverse=True)
    best = findings[0] if findings else None
    if best is None or best.verdict == T.ORIGINAL:
        most = max((f.aligned for f in findings if f.source.role == FINDING), default=0)
        explanation = ("Nothing in the compared texts is close." if not findings else
                       f"No source is followed: at most {_plural(most, 'sentence')} of {counted} "
                       "resemble any one source.")
        return Decision(T.ORIGINAL, explanation, findings, best)
    return Decision(best.verdict, best.explanation, findings, best)
