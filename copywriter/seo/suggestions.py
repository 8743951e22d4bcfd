"""Keyphrase suggestions for a brief and its copy: KeyBERT and YAKE, merged.

The only torch-side part of SEO: ``suggest_keywords`` loads the MiniLM embedding model (torch)
for KeyBERT unless it is called with ``keybert=False``. The web app runs it in a worker
(``seo.suggest`` task), and answers with YAKE's suggestions alone until the worker's arrive; so
this module imports neither torch nor ``copywriter.ml`` at import time.
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass
from typing import Any

from copywriter.seo.keywords import WORD_RE, find_keyword, stem, tokens


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
