"""Sentence embeddings from the packaged all-MiniLM-L6-v2 (offline, no hub)."""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

from copywriter.ml.paths import embedding_model_dir

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@functools.lru_cache(maxsize=1)
def get_embedder() -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(embedding_model_dir()), device="cpu")


def embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Unit-normalised 384-d vectors (cosine similarity is a dot product)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    vectors = get_embedder().encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)
