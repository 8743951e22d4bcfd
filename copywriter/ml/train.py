"""LoRA training with peft: tone adapters from the corpus, brand voices from a workspace's copy,
the task adapter from the task corpus (``manage.py train_task``). One loop serves all three.

A plain training loop (AdamW, linear decay, loss on the answer tokens only) so progress and
cancellation can be reported to a Celery task. Reproducible: fixed seed, recorded config and data
hash next to the adapter (``train_meta.json``); the order of the examples for every epoch is drawn
up front from the seed, so a run resumed from a checkpoint sees the same batches in the same order
and ends with the same weights as one that never stopped.

Sequence packing (``TrainConfig.pack``): short examples are laid one after another into rows of at
most ``max_len`` tokens (first fit, in the epoch's shuffled order), so a batch is nearly all real
tokens instead of padding. Attention stays plainly causal over the whole row: an example can
attend to the examples packed before it in its row. That is the cheap first version (no
block-diagonal mask, positions run on across the row); each example still starts with its own
system prompt and chat markup and the loss is on its answer tokens only (prompts are -100). The
held-out loss is measured on unpacked examples, each alone, as the model will see them.

Devices: the CPU trains in fp32 (as before). On CUDA the weights stay fp32 and the forward runs
under bf16 autocast where the GPU has bf16 (fp32 otherwise).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from copywriter.ml.engine import SYSTEM_PROMPT, chat_prompt
from copywriter.ml.lora import TARGETS
from copywriter.ml.model import base_id, load_base_model, load_tokenizer


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
    pack: bool = False  # several examples per row of max_len tokens (see the module docstring)
    max_steps: int | None = None  # stop (and end the LR decay) here instead of after the epochs


@dataclass
class Checkpoints:
    """Save every ``every`` steps into ``directory``; ``resume`` continues from the newest save."""

    directory: Path
    every: int = 50
    resume: bool = False


class Cancelled(Exception):
    pass


class ResumeError(ValueError):
    """A checkpoint that does not belong to this run (other data or settings)."""


Progress = Callable[[int, int, float], None]  # step, total, loss; raise Cancelled to stop
Encoded = tuple[list[int], list[int]]  # token ids, labels (-100 on the prompt)


def encode(tok: Any, instruction: str, output: str, max_len: int) -> Encoded:
    prompt = chat_prompt(tok, instruction, SYSTEM_PROMPT)
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    # The end of an answer is the tokenizer's end-of-turn token: <|im_end|> for the packaged
    # base (ChatML); another base's own.
    a_ids = tok(output + (tok.eos_token or "<|im_end|>"), add_special_tokens=False)["input_ids"]
    ids = (p_ids + a_ids)[:max_len]
    labels = ([-100] * len(p_ids) + a_ids)[:max_len]
    return ids, labels


def pack_rows(lengths: list[int], order: list[int], max_len: int) -> list[list[int]]:
    """Rows of example indices, each row's lengths summing to at most ``max_len``: first fit,
    taking the examples in ``order`` (an example longer than ``max_len`` is cut by the encoder
    before this and fills a row alone)."""
    rows: list[list[int]] = []
    room: list[int] = []
    for i in order:
        n = min(lengths[i], max_len)
        for r, free in enumerate(room):
            if n <= free:
                rows[r].append(i)
                room[r] -= n
                break
        else:
            rows.append([i])
            room.append(max_len - n)
    return rows


def collate(encoded: list[Encoded], rows: list[list[int]], pad: int) -> dict[str, torch.Tensor]:
    """One batch: each row is its examples' tokens one after another, right-padded."""
    joined = [([t for i in row for t in encoded[i][0]], [t for i in row for t in encoded[i][1]])
              for row in rows]
    width = max(len(ids) for ids, _ in joined)
    ids = torch.full((len(joined), width), pad, dtype=torch.long)
    labels = torch.full((len(joined), width), -100, dtype=torch.long)
    mask = torch.zeros((len(joined), width), dtype=torch.long)
    for j, (a, b) in enumerate(joined):
        ids[j, :len(a)] = torch.tensor(a)
        labels[j, :len(b)] = torch.tensor(b)
        mask[j, :len(a)] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def plan_batches(encoded: list[Encoded], cfg: TrainConfig) -> tuple[list[list[list[int]]], list[int]]:
    """Every step's batch (rows of example indices) for the whole run, and the rows per epoch.

    The orders come from one ``random.Random(seed)``, shuffled once per epoch: the same draws as
    seeding the global generator and shuffling each epoch, which the tone adapters were trained
    with."""
    rng = random.Random(cfg.seed)
    lengths = [len(ids) for ids, _ in encoded]
    steps: list[list[list[int]]] = []
    rows_per_epoch = []
    for _epoch in range(cfg.epochs):
        order = list(range(len(encoded)))
        rng.shuffle(order)
        rows = pack_rows(lengths, order, cfg.max_len) if cfg.pack else [[i] for i in order]
        rows_per_epoch.append(len(rows))
        steps += [rows[i:i + cfg.batch_size] for i in range(0, len(rows), cfg.batch_size)]
    if cfg.max_steps is not None:
        steps = steps[:cfg.max_steps]
    return steps, rows_per_epoch


def _autocast(device: str) -> contextlib.AbstractContextManager[Any]:
    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _eval_loss(model: Any, batches: list[dict[str, torch.Tensor]], device: str) -> float:
    """Mean loss per answer token over all the batches (each example alone in its row)."""
    if not batches:
        return float("nan")
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), _autocast(device):
        for b in batches:
            loss = model(**{k: v.to(device) for k, v in b.items()}).loss
            tokens = int((b["labels"][:, 1:] != -100).sum())  # the model shifts labels by one
            total += float(loss) * tokens
            count += tokens
    model.train()
    return total / count if count else float("nan")


def _to_half(path: Path) -> None:
    """Ship adapters in fp16: half the size, and serving casts to the model's dtype anyway."""
    from safetensors.torch import load_file, save_file

    tensors = {k: v.half() if v.is_floating_point() else v for k, v in load_file(str(path)).items()}
    save_file(tensors, str(path), metadata={"format": "pt"})


def _fingerprint(cfg: TrainConfig, encoded: list[Encoded]) -> str:
    """What a checkpoint must match to be resumed: the settings and the token ids trained on.
    ``max_steps`` is left out (counted as None): a resumed run may end earlier or later than
    planned, on the same batches in the same order, its learning rate decaying to 0 at the new
    end (the machine's time, not the recipe, decides how far a CPU run gets)."""
    digest = hashlib.sha256(json.dumps({**asdict(cfg), "targets": list(cfg.targets),
                                        "max_steps": None}, sort_keys=True).encode())
    for ids, labels in encoded:
        digest.update(json.dumps([ids, labels]).encode())
    return digest.hexdigest()


def _checkpoints(directory: Path) -> Iterator[tuple[int, Path]]:
    for p in directory.glob("step-*"):
        if p.is_dir() and p.name.removeprefix("step-").isdigit() and (p / "state.pt").exists():
            yield int(p.name.removeprefix("step-")), p


def latest_checkpoint(directory: Path) -> Path | None:
    """The newest complete checkpoint (``step-N``; ``.tmp`` folders are saves cut short)."""
    found = sorted(_checkpoints(directory)) if directory.exists() else []
    return found[-1][1] if found else None


def _save_checkpoint(directory: Path, step: int, model: Any, state: dict[str, Any]) -> Path:
    """Adapter (fp32) + optimizer + scheduler + step + RNG state, written to ``step-N.tmp`` and
    renamed, so a crash mid-save leaves the previous checkpoint as the newest; older ones go."""
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"step-{step:08d}"
    tmp = directory / f"step-{step:08d}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(str(tmp))
    torch.save(state, tmp / "state.pt")
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    for other_step, other in list(_checkpoints(directory)):
        if other_step != step:
            shutil.rmtree(other)
    return final


def _rng_state(device: str) -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "python": random.getstate(),
            "cuda": torch.cuda.get_rng_state_all() if device.startswith("cuda") else None}


def _set_rng_state(saved: dict[str, Any], device: str) -> None:
    torch.set_rng_state(saved["torch"])
    random.setstate(saved["python"])
    if saved.get("cuda") is not None and device.startswith("cuda"):
        torch.cuda.set_rng_state_all(saved["cuda"])


def train_adapter(pairs: list[tuple[str, str]], out_dir: Path, *, config: TrainConfig | None = None,
                  heldout: list[tuple[str, str]] | None = None, model_path: str | None = None,
                  progress: Progress | None = None, meta: dict[str, Any] | None = None,
                  device: str | None = None, checkpoints: Checkpoints | None = None,
                  log: Callable[[str], None] | None = None, base: str | None = None
                  ) -> dict[str, Any]:
    """Train one LoRA adapter on (instruction, output) pairs and save it to ``out_dir``.

    ``checkpoints``: save every N steps; with ``resume`` start from the newest save, which must
    come from the same settings and data (``ResumeError`` otherwise). ``log`` hears about it.
    ``base``: the id of the base trained on, recorded in ``train_meta.json`` (the engine loads
    an adapter only onto that base); default: the configured base's (``model_path``, like
    ``COPYWRITER_MODEL_PATH``, stands in for it).
    """
    from peft import LoraConfig, get_peft_model
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file

    cfg = config or TrainConfig()
    say = log or (lambda _line: None)
    dev = device or "cpu"
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    tok = load_tokenizer(model_path)
    # fp32 weights everywhere: on CUDA the speed comes from autocast, the LoRA and the optimizer
    # state stay full precision.
    trained_on = base or base_id()
    base_model = load_base_model(model_path, device=dev, dtype=torch.float32)
    dev = str(next(base_model.parameters()).device)
    model = get_peft_model(base_model, LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha,
                                            lora_dropout=cfg.dropout,
                                            target_modules=list(cfg.targets),
                                            task_type="CAUSAL_LM"))
    whole = [encode(tok, i, o, 1 << 30) for i, o in pairs]
    truncated = sum(1 for ids, _ in whole if len(ids) > cfg.max_len)
    rows = [(ids[:cfg.max_len], labels[:cfg.max_len]) for ids, labels in whole]
    held = [encode(tok, i, o, cfg.max_len) for i, o in (heldout or [])]
    pad = tok.pad_token_id
    held_batches = [collate(held, [[i] for i in range(s, min(s + cfg.batch_size, len(held)))], pad)
                    for s in range(0, len(held), cfg.batch_size)]
    plan, rows_per_epoch = plan_batches(rows, cfg)
    total = len(plan)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr,
                            weight_decay=0.0)

    def lr_at(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        return max(0.0, (total - step) / max(1, total - cfg.warmup_steps))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    fingerprint = _fingerprint(cfg, rows)
    losses: list[float] = []
    step, earlier_seconds, resumed_from = 0, 0.0, None
    saved = latest_checkpoint(checkpoints.directory) if checkpoints and checkpoints.resume else None
    if checkpoints and checkpoints.resume and saved is None:
        say(f"no checkpoint in {checkpoints.directory}: starting at step 0")
    if saved is not None:
        state = torch.load(saved / "state.pt", weights_only=False)
        if state["fingerprint"] != fingerprint:
            raise ResumeError(f"{saved} was saved by a run with other settings or data; start "
                              "afresh without --resume or choose another --checkpoint-dir")
        if state["step"] > total:
            raise ResumeError(f"{saved} is at step {state['step']}, past this run's end at step "
                              f"{total}: raise --max-steps or start afresh")
        set_peft_model_state_dict(model, load_file(str(saved / "adapter_model.safetensors")))
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step, losses, before = state["step"], list(state["losses"]), state["heldout_before"]
        earlier_seconds, resumed_from = state["seconds"], state["step"]
        _set_rng_state(state["rng"], dev)  # last: nothing above may draw after the restore
        say(f"resuming from {saved} at step {step}/{total}")
    else:
        before = _eval_loss(model, held_batches, dev)
    started = time.monotonic()
    model.train()
    while step < total:
        batch = collate(rows, plan[step], pad)
        with _autocast(dev):
            loss = model(**{k: v.to(dev) for k, v in batch.items()}).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        losses.append(float(loss.detach()))
        if checkpoints and (step % checkpoints.every == 0 or step == total):
            _save_checkpoint(checkpoints.directory, step, model, {
                "step": step, "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                "rng": _rng_state(dev), "losses": losses, "heldout_before": before,
                "seconds": earlier_seconds + time.monotonic() - started,
                "fingerprint": fingerprint})
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
        "truncated_examples": truncated,
        "rows_per_epoch": rows_per_epoch,
        "tokens": sum(len(ids) for ids, _ in rows),
        "steps": step,
        "resumed_from_step": resumed_from,
        "seconds": round(earlier_seconds + time.monotonic() - started, 1),
        "device": dev,
        "autocast": "bf16" if dev.startswith("cuda") and torch.cuda.is_bf16_supported() else None,
        "train_loss_first": round(losses[0], 4) if losses else None,
        "train_loss_last": round(sum(losses[-5:]) / max(1, len(losses[-5:])), 4) if losses else None,
        "losses": [round(x, 4) for x in losses],
        "heldout_loss_before": round(before, 4),
        "heldout_loss_after": round(after, 4),
        **(meta or {}),
        "base": trained_on,
    }
    (tmp / "train_meta.json").write_text(json.dumps(record, indent=2) + "\n")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return record
