"""The SEO report of a text: keyword coverage, density bounds, placement, stuffing warnings,
meta lengths and readability.

Pure Python: no Django, and no torch: ``analyse`` is cheap and safe in the web process. The
rules and the reasons for the bounds are in docs/seo.md.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from copywriter.core.readability import readability
from copywriter.seo import structure
from copywriter.seo.keywords import find_keyword, tokens

KINDS = ("auto", "plain", "markdown", "html", "meta_title", "meta_description")

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
    fmt = structure.detect_kind(text) if kind == "auto" else kind
    fmt_struct = "plain" if fmt in ("meta_title", "meta_description") else fmt
    body = structure.body_text(text, fmt_struct)
    toks = tokens(body)
    n_words = len(toks)
    heads = structure.headings(text, fmt_struct)
    if not title and fmt_struct == "markdown":
        h1 = [h for level, h in structure.md_headings(text) if level == 1]
        title = h1[0] if h1 else ""
    first = structure.first_paragraph(text if fmt_struct != "markdown" else
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

