"""The tone corpus in data/tones/: briefs written once in every tone (see its README)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from copywriter.ml.paths import BASE_DIR

TONE_DIR = BASE_DIR / "data" / "tones"
HELD_OUT_EVERY = 6  # index % 6 == 5 within each part file is held out


@dataclass(frozen=True)
class Example:
    brief_id: str
    kind: str
    instruction: str
    tone: str
    output: str
    split: str  # "train" or "heldout"


def load_corpus(directory: Path = TONE_DIR) -> list[Example]:
    examples: list[Example] = []
    for part in sorted(directory.glob("briefs_part*.jsonl")):
        for index, line in enumerate(ln for ln in part.read_text().splitlines() if ln.strip()):
            row = json.loads(line)
            split = "heldout" if index % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 else "train"
            for tone, text in row["outputs"].items():
                examples.append(Example(row["id"], row["kind"], row["instruction"], tone,
                                        text.strip(), split))
    return examples


def tone_split(examples: list[Example], tone: str, split: str) -> list[Example]:
    return [e for e in examples if e.tone == tone and e.split == split]


def data_hash(examples: list[Example]) -> str:
    h = hashlib.sha256()
    for e in examples:
        h.update(json.dumps([e.brief_id, e.tone, e.instruction, e.output, e.split]).encode())
    return h.hexdigest()
