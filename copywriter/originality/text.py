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


def passages(text: str, *, min_words: int = MIN_WORDS, windows: Sequence[int] = (2, 3)) -> list[Passage]:
    """Sentences plus sliding windows of 2 and 3 sentences, so a match points at a span.

    A sentence under ``min_words`` words is not a passage by itself; a window is kept when it
    has at least ``min_words`` words and at most ``MAX_WINDOW_WORDS``.
    """
    units: list[Span] = []
    for s in sentences(text):
        units.extend(_split_long(text, s))
    counts = [len(words(u.text)) for u in units]
    out: list[Passage] = []
    seen: set[tuple[int, int]] = set()
    for i, u in enumerate(units):
        if counts[i] >= min_words:
            out.append(Passage(u.start, u.end, u.text, 1))
            seen.add((u.start, u.end))
    for size in windows:
        if len(units) < size:
            continue
        for i in range(len(units) - size + 1):
            group = units[i:i + size]
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
# A paraphrase flag needs a matched stretch of at least this many words in the checked text:
# one short stock line ("Delivery is free on orders over fifty pounds.") rephrases many others.
PARAPHRASE_MIN_WORDS = 10


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
PARAPHRASE = "paraphrase"
COPY = "copy"
SEVERITY = {ORIGINAL: 0, PARAPHRASE: 1, COPY: 2}
LABELS = {ORIGINAL: "Original", PARAPHRASE: "Paraphrase flag", COPY: "Copy flag"}


@dataclass(frozen=True)
class Thresholds:
    """Defaults chosen from measurements: docs/originality.md, bench/originality_thresholds.py."""

    paraphrase: float = 0.82  # passage cosine similarity at or above which a match is flagged
    copy_overlap: float = 0.35  # word 5-gram containment at or above which a match is a copy

    def validate(self) -> list[str]:
        errors = []
        if not 0.5 <= self.paraphrase <= 0.99:
            errors.append("The similarity threshold must be between 0.50 and 0.99.")
        if not 0.1 <= self.copy_overlap <= 1.0:
            errors.append("The verbatim-overlap threshold must be between 0.10 and 1.00.")
        return errors


def verdict(*, similarity: float, span: Overlap, whole: Overlap, span_words: int,
            t: Thresholds) -> str:
    """Copy when words were taken over verbatim (the matched spans, or the text as a whole,
    share at least ``copy_overlap`` of their 5-grams); paraphrase when a stretch of at least
    ``PARAPHRASE_MIN_WORDS`` words means the same as the source without the same words;
    otherwise original."""
    if span.is_copy(t.copy_overlap) or whole.is_copy(t.copy_overlap):
        return COPY
    if similarity >= t.paraphrase and span_words >= PARAPHRASE_MIN_WORDS:
        return PARAPHRASE
    return ORIGINAL


def worst(verdicts: Iterable[str]) -> str:
    return max(verdicts, key=lambda v: SEVERITY[v], default=ORIGINAL)
