"""What the code above ml tells it: where the model files are and how a worker runs the model.

ml reads no environment variable and imports no Django. ``settings.py`` reads the environment
and ``copywriter.core`` hands the values over (``core/mlsettings.py``) when Django starts, and
again when a test changes one of them. ``None`` means "not told": a script that loads a model
without Django (bench/) gets the defaults in ``paths.py`` and ``model.py``, which are the same as
settings' defaults for an empty environment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Config:
    # The base model: a Hugging Face model folder or a .gguf file; None: the packaged GGUF.
    base_model: str | None = None
    model_cache: Path | None = None  # the safetensors copy of the packaged GGUF model
    model_path: str | None = None  # a model folder served and trained on instead of the base
    tone_adapters: Path | None = None  # the shipped tone adapters
    device: str | None = None  # "cuda", "cpu", ...; None: CUDA when there is a GPU
    torch_threads: int | None = None  # the worker's torch threads; None: one per core
    int8: str | None = None  # int8 base weights on the CPU: "1", "0" or "auto" (int8_wanted)


current = Config()


def configure(**values: Any) -> None:
    """Set some of the values; the others stay as they are."""
    global current
    current = replace(current, **values)
