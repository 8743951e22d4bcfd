"""The check without a database: a corpus embedded in memory and searched with numpy.

``manage.py check_originality --corpus DIR FILE...`` and the threshold measurements use it; the
verdict and report are the same code as the database check (``report.build_report``, which
decides with ``decision.decide``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from copywriter.originality import text as T
from copywriter.originality.decision import topic_scores
from copywriter.originality.report import Candidate, Source, build_report

Embed = Callable[[list[str]], np.ndarray]


@dataclass
class Corpus:
    sources: list[Source]
    passages: list[tuple[int, T.Passage]]  # (index into sources, passage)
    vectors: np.ndarray  # (n, 384), unit length

    @classmethod
    def build(cls, sources: Sequence[Source], embed: Embed) -> Corpus:
        items: list[tuple[int, T.Passage]] = []
        for i, src in enumerate(sources):
            items.extend((i, p) for p in T.passages(src.text))
        vectors = embed([p.text for _, p in items]) if items else np.zeros((0, 384), np.float32)
        return cls(list(sources), items, vectors)

    def candidates(self, query_vectors: np.ndarray, *, k: int = 5,
                   exclude: set[str] | None = None) -> list[Candidate]:
        if not len(self.passages) or not len(query_vectors):
            return []
        allowed = np.array([not (exclude and self.sources[i].key in exclude)
                            for i, _ in self.passages])
        sims = query_vectors @ self.vectors.T
        sims[:, ~allowed] = -2.0
        k = min(k, sims.shape[1])
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        out: list[Candidate] = []
        for qi, row in enumerate(top):
            for j in row:
                if sims[qi, j] <= -2.0:
                    continue
                si, p = self.passages[int(j)]
                out.append(Candidate(qi, self.sources[si], p.start, p.end, float(sims[qi, j])))
        return out

    def check(self, text: str, embed: Embed, thresholds: T.Thresholds, *, k: int = 5,
              exclude: set[str] | None = None, given: str = "") -> dict[str, Any]:
        query = T.passages(text)
        inputs = [p.text for p in T.passages(given)] if given.strip() else []
        flat = [p.text for p in query] + inputs
        vectors = embed(flat) if flat else np.zeros((0, 384), np.float32)
        mine = vectors[:len(query)]
        return build_report(text, query, self.candidates(mine, k=k, exclude=exclude), thresholds,
                            given=given, topic=topic_scores(mine, vectors[len(query):]))
