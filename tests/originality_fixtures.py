"""Fixtures for the originality tests: the real MiniLM, with each text embedded once per run."""

from __future__ import annotations

import numpy as np
import pytest

from copywriter.ml import embeddings as _ml  # numpy only; torch loads with the model

_REAL_EMBED = _ml.embed  # kept before any test patches the module
_MEMO: dict[str, np.ndarray] = {}


def memo_embed(texts: list[str]) -> np.ndarray:
    embed = _REAL_EMBED
    todo = sorted({t for t in texts if t not in _MEMO})
    if todo:
        _MEMO.update(zip(todo, embed(todo), strict=True))
    if not texts:
        return np.zeros((0, 384), np.float32)
    return np.stack([_MEMO[t] for t in texts])


@pytest.fixture
def embeddings(monkeypatch):
    """Real embeddings (the same model as production), cached across tests by text."""
    monkeypatch.setattr("copywriter.originality.search.embed", memo_embed)
    return memo_embed


@pytest.fixture
def enqueued(monkeypatch):
    """Tasks the web side would send, captured instead of sent: (task name, args)."""
    sent: list[tuple[str, tuple[int, ...]]] = []
    monkeypatch.setattr("copywriter.originality.services._enqueue",
                        lambda name, *args, countdown=0: sent.append((name, args)))
    return sent
