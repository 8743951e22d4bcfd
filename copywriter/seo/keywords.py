"""Target keywords: a typed list parsed and checked, and where a keyword occurs in a text
(exactly or as a close variant: plural, -ing, hyphenated, closed up).

Pure Python: no Django, no torch. The rules are in docs/seo.md.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

MAX_KEYWORDS = 12
MAX_KEYWORD_CHARS = 80

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

