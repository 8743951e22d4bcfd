"""Plain-Python text handling for the originality check: passages with spans, word n-gram
containment, verdicts. No Django, no torch: the web process, the workers and the command-line
check all use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Passages shorter than this are not compared on their own ("Shop now.", "Free shipping."):
# every catalogue has them, and matching them says nothing about copying. They still count
# inside the sliding windows around them.
MIN_WORDS = 6
# MiniLM reads at most 256 word pieces; windows stay well under that so the whole span counts.
MAX_WINDOW_WORDS = 80
LONG_SENTENCE_CHUNK = 40
NGRAM = 5

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
# A sentence ends at . ! ? (or …) followed by space and something that can start a sentence,
# and at every line break: headlines, bullets and CTAs in copy often have no full stop.
_BOUNDARY = re.compile(r"(?<=[.!?\u2026])([\"')\]\u201d\u2019]*)\s+"
                       r"(?=[\"'(\[\u201c\u2018]*[A-Z0-9\u00C0-\u024F])|\n+")
_ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "inc", "ltd", "co",
                  "st", "no", "approx", "u.s", "u.k", "jr", "sr", "fig", "dept", "est"}
_BULLET = re.compile(r"\s*(?:[-*\u2022\u2013\u2014>#]+|\d+[.)])\s+")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Passage:
    """A sentence (``size`` 1) or a window of 2-3 sentences, with its place in the source."""

    start: int
    end: int
    text: str
    size: int


def words(text: str) -> list[str]:
    return [w.lower().replace("\u2019", "'") for w in _WORD.findall(text)]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    m = _BULLET.match(text, start, end)
    if m and m.end() < end:
        start = m.end()
    return start, end


def sentences(text: str) -> list[Span]:
    """Sentence spans (character offsets into ``text``); empty pieces are dropped."""
    spans: list[Span] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        closing = m.group(1)
        if closing is not None and "\n" not in m.group(0):
            # ". " boundary: not after an abbreviation or an initial ("Dr. Lee", "J. Smith")
            before = text[start:m.start()].rstrip(".!?\u2026").split()
            last = before[-1].lower() if before else ""
            if (last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())
                    or (len(before) == 1 and last.isdigit())):  # "1. Step one" list numbers
                continue
        _add(spans, text, start, m.start() + len(closing or ""))
        start = m.end()
    _add(spans, text, start, len(text))
    return spans


def _add(spans: list[Span], text: str, start: int, end: int) -> None:
    start, end = _trim(text, start, end)
    if end > start and _WORD.search(text, start, end):
        spans.append(Span(start, end, text[start:end]))


def _split_long(text: str, span: Span) -> list[Span]:
    """A run-on sentence (a paragraph with no full stops) becomes overlapping word chunks."""
    found = list(_WORD.finditer(text, span.start, span.end))
    if len(found) <= MAX_WINDOW_WORDS:
        return [span]
    out: list[Span] = []
    step = LONG_SENTENCE_CHUNK // 2
    for i in range(0, len(found), step):
        chunk = found[i:i + LONG_SENTENCE_CHUNK]
        s, e = chunk[0].start(), chunk[-1].end()
        out.append(Span(s, e, text[s:e]))
        if i + LONG_SENTENCE_CHUNK >= len(found):
            break
    return out


def units(text: str) -> list[Span]:
    """The sentences of ``text``, run-on ones cut into chunks: what passages are made of, and
    what the decision counts ("4 of 6 sentences follow ...")."""
    out: list[Span] = []
    for s in sentences(text):
        out.extend(_split_long(text, s))
    return out


def passages(text: str, *, min_words: int = MIN_WORDS, windows: Sequence[int] = (2, 3)) -> list[Passage]:
    """Sentences plus sliding windows of 2 and 3 sentences, so a match points at a span.

    A sentence under ``min_words`` words is not a passage by itself; a window is kept when it
    has at least ``min_words`` words and at most ``MAX_WINDOW_WORDS``.
    """
    units_ = units(text)
    counts = [len(words(u.text)) for u in units_]
    out: list[Passage] = []
    seen: set[tuple[int, int]] = set()
    for i, u in enumerate(units_):
        if counts[i] >= min_words:
            out.append(Passage(u.start, u.end, u.text, 1))
            seen.add((u.start, u.end))
    for size in windows:
        if len(units_) < size:
            continue
        for i in range(len(units_) - size + 1):
            group = units_[i:i + size]
            n = sum(counts[i:i + size])
            start, end = group[0].start, group[-1].end
            if n < min_words or n > MAX_WINDOW_WORDS or (start, end) in seen:
                continue
            seen.add((start, end))
            out.append(Passage(start, end, text[start:end], size))
    if not out and counts and sum(counts) > 0:
        # A text shorter than one passage is still checked, as a whole.
        start, end = _trim(text, 0, len(text))
        out.append(Passage(start, end, text[start:end], 1))
    return out


def ngrams(tokens: Sequence[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    if len(tokens) < n:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


@dataclass(frozen=True)
class Overlap:
    """Word n-gram containment of a text in a source: ``shared`` of the text's ``total``
    distinct n-grams occur in the source."""

    shared: int
    total: int

    @property
    def ratio(self) -> float:
        return self.shared / self.total if self.total else 0.0

    def is_copy(self, threshold: float) -> bool:
        # At least MIN_SHARED_NGRAMS shared 5-grams (a run of 8 identical words), or all of them
        # for a shorter text: one stock phrase ("free returns for 100 days") is not a copy.
        return self.total > 0 and self.ratio >= threshold and self.shared >= min(MIN_SHARED_NGRAMS,
                                                                                   self.total)


MIN_SHARED_NGRAMS = 4


def overlap(text: str, source: str, n: int = NGRAM) -> Overlap:
    """Texts under ``n`` words use one n-gram of their own length, so a copied four-word
    headline still counts as copied."""
    a = words(text)
    if not a:
        return Overlap(0, 0)
    size = min(n, len(a))
    mine = ngrams(a, size)
    return Overlap(len(mine & ngrams(words(source), size)), len(mine))


def containment(text: str, source: str, n: int = NGRAM) -> float:
    """Share of ``text``'s word n-grams that also occur in ``source`` (0..1)."""
    return overlap(text, source, n).ratio


def shared_ngrams(text: str, source: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    a, b = words(text), words(source)
    size = min(n, len(a)) if a else n
    return ngrams(a, size) & ngrams(b, size)


# --- verdicts ---------------------------------------------------------------------------------

ORIGINAL = "original"
NOTE = "note"
PARAPHRASE = "paraphrase"
COPY = "copy"
# A note (one sentence that resembles a source) is shown with its evidence but is not a flag.
SEVERITY = {ORIGINAL: 0, NOTE: 1, PARAPHRASE: 2, COPY: 3}
FLAGS = (PARAPHRASE, COPY)
LABELS = {ORIGINAL: "Original", NOTE: "Note", PARAPHRASE: "Paraphrase flag", COPY: "Copy flag"}


@dataclass(frozen=True)
class Thresholds:
    """The decision's thresholds (``decision.py``), fitted by bench/originality_decision.py on
    the tune part of data/originality and reported on its held-out part (docs/originality.md).

    ``paraphrase`` and ``copy_overlap`` are the two a workspace owner may change."""

    # cosine similarity at which a checked passage "says the same" as a place in a source (a seed)
    paraphrase: float = 0.7
    copy_overlap: float = 0.35  # share of the text's 5-word runs found verbatim (filtered) -> copy
    coverage: float = 0.6  # share of the text's words that follow one source in order -> paraphrase
    min_sentences: int = 2  # ... across at least this many sentences: one sentence is a note
    window_step: float = 0.03  # a 2- or 3-sentence window's seed needs this much more per sentence
    copy_long: float = 0.1  # share of the text's 8-word runs found verbatim -> copy
    long_run: int = 16  # one unbroken verbatim run of this many words -> copy
    duplicate: float = 0.6  # own drafts and rows of the same bulk run: 5-gram containment -> duplicate
    # a seed must be this much more similar to the source than to the requester's input
    topic_margin: float = 0.11

    def validate(self) -> list[str]:
        errors = []
        if not 0.5 <= self.paraphrase <= 0.99:
            errors.append("The similarity threshold must be between 0.50 and 0.99.")
        if not 0.1 <= self.copy_overlap <= 1.0:
            errors.append("The verbatim-overlap threshold must be between 0.10 and 1.00.")
        return errors

    @property
    def coverage_pct(self) -> int:
        return round(self.coverage * 100)

    def as_json(self) -> dict[str, float]:
        return {"paraphrase": self.paraphrase, "copy_overlap": self.copy_overlap,
                "coverage": self.coverage, "min_sentences": self.min_sentences,
                "window_step": self.window_step, "copy_long": self.copy_long,
                "long_run": self.long_run, "duplicate": self.duplicate,
                "topic_margin": self.topic_margin}


def worst(verdicts: Iterable[str]) -> str:
    return max(verdicts, key=lambda v: SEVERITY[v], default=ORIGINAL)
