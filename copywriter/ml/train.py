"""LoRA training with peft: tone adapters from the corpus, brand voices from a workspace's copy.

A plain training loop (AdamW, linear decay, loss on the answer tokens only) so progress and
cancellation can be reported to a Celery task. Reproducible: fixed seed, recorded config and data
hash next to the adapter (``train_meta.json``).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from copywriter.ml.engine import SYSTEM_PROMPT, chat_prompt
from copywriter.ml.lora import TARGETS
from copywriter.ml.model import load_base_model, load_tokenizer


@dataclass
class TrainConfig:
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    lr: float = 3e-4
    epochs: int = 2
    batch_size: int = 8
    max_len: int = 224
    seed: int = 1234
    warmup_steps: int = 4
    targets: tuple[str, ...] = TARGETS


class Cancelled(Exception):
    pass


Progress = Callable[[int, int, float], None]  # step, total, loss; raise Cancelled to stop


def _encode(tok: Any, instruction: str, output: str, max_len: int) -> tuple[list[int], list[int]]:
    prompt = chat_prompt(tok, instruction, SYSTEM_PROMPT)
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    a_ids = tok(output + "<|im_end|>", add_special_tokens=False)["input_ids"]
    ids = (p_ids + a_ids)[:max_len]
    labels = ([-100] * len(p_ids) + a_ids)[:max_len]
    return ids, labels


def _batches(rows: list[tuple[list[int], list[int]]], size: int, pad: int
             ) -> list[dict[str, torch.Tensor]]:
    out = []
    for i in range(0, len(rows), size):
        chunk = rows[i:i + size]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        labels = torch.full((len(chunk), width), -100, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for j, (a, b) in enumerate(chunk):
            ids[j, :len(a)] = torch.tensor(a)
            labels[j, :len(b)] = torch.tensor(b)
            mask[j, :len(a)] = 1
        out.append({"input_ids": ids, "labels": labels, "attention_mask": mask})
    return out


def _eval_loss(model: Any, batches: list[dict[str, torch.Tensor]], device: str) -> float:
    if not batches:
        return float("nan")
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for b in batches:
            loss = model(**{k: v.to(device) for k, v in b.items()}).loss
            total += float(loss) * b["input_ids"].shape[0]
            count += b["input_ids"].shape[0]
    model.train()
    return total / count


def _to_half(path: Path) -> None:
    """Ship adapters in fp16: half the size, and serving casts to the model's dtype anyway."""
    from safetensors.torch import load_file, save_file

    tensors = {k: v.half() if v.is_floating_point() else v for k, v in load_file(str(path)).items()}
    save_file(tensors, str(path), metadata={"format": "pt"})


def train_adapter(pairs: list[tuple[str, str]], out_dir: Path, *, config: TrainConfig | None = None,
                  heldout: list[tuple[str, str]] | None = None, model_path: str | None = None,
                  progress: Progress | None = None, meta: dict[str, Any] | None = None,
                  device: str | None = None) -> dict[str, Any]:
    """Train one LoRA adapter on (instruction, output) pairs and save it to ``out_dir``."""
    from peft import LoraConfig, get_peft_model

    cfg = config or TrainConfig()
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    tok = load_tokenizer(model_path)
    base = load_base_model(model_path, device=device or "cpu")
    dev = str(next(base.parameters()).device)
    model = get_peft_model(base, LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha,
                                            lora_dropout=cfg.dropout,
                                            target_modules=list(cfg.targets),
                                            task_type="CAUSAL_LM"))
    rows = [_encode(tok, i, o, cfg.max_len) for i, o in pairs]
    held = [_encode(tok, i, o, cfg.max_len) for i, o in (heldout or [])]
    pad = tok.pad_token_id
    held_batches = _batches(held, cfg.batch_size, pad)
    steps_per_epoch = math.ceil(len(rows) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr,
                            weight_decay=0.0)

    def lr_at(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        return max(0.0, (total - step) / max(1, total - cfg.warmup_steps))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    before = _eval_loss(model, held_batches, dev)
    losses: list[float] = []
    started = time.monotonic()
    model.train()
    step = 0
    for _epoch in range(cfg.epochs):
        order = list(range(len(rows)))
        random.shuffle(order)
        # Sort within windows by length: less padding, same randomness across runs.
        shuffled = [rows[i] for i in order]
        for batch in _batches(shuffled, cfg.batch_size, pad):
            loss = model(**{k: v.to(dev) for k, v in batch.items()}).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            losses.append(float(loss.detach()))
            if progress is not None:
                progress(step, total, losses[-1])
    after = _eval_loss(model, held_batches, dev)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(str(tmp))
    _to_half(tmp / "adapter_model.safetensors")
    record = {
        "config": {**asdict(cfg), "targets": list(cfg.targets)},
        "examples": len(rows),
        "heldout_examples": len(held),
        "steps": step,
        "seconds": round(time.monotonic() - started, 1),
        "train_loss_first": round(losses[0], 4) if losses else None,
        "train_loss_last": round(sum(losses[-5:]) / max(1, len(losses[-5:])), 4) if losses else None,
        "heldout_loss_before": round(before, 4),
        "heldout_loss_after": round(after, 4),
        **(meta or {}),
    }
    (tmp / "train_meta.json").write_text(json.dumps(record, indent=2) + "\n")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return record
