"""Batched, mixed-adapter text generation with per-row sampling and streaming callbacks.

A hand-written decode loop (rather than ``model.generate``) because every row carries its own
adapter, sampling settings and token budget, finished rows are dropped from the batch as it runs,
and the caller gets partial texts while tokens come (the browser shows them).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from copywriter.ml.lora import BASE, StackedAdapters, read_peft_adapter
from copywriter.ml.model import load_base_model, load_tokenizer, pick_device

log = logging.getLogger(__name__)
SYSTEM_PROMPT = "You are a marketing copywriter. Write only the requested copy."


@dataclass
class SeqRequest:
    prompt: str
    adapter: str = BASE
    max_new_tokens: int = 200
    temperature: float = 0.8
    top_p: float = 0.92
    repetition_penalty: float = 1.15
    seed: int | None = None
    ignore_eos: bool = False  # write exactly max_new_tokens (benchmarks: fixed work per row)
    key: Any = None  # caller's handle, passed back in results and progress


@dataclass
class SeqResult:
    key: Any
    text: str
    tokens: int
    finish_reason: str  # "stop" or "length"
    token_ids: list[int] = field(default_factory=list, repr=False)


Progress = Callable[[list[SeqResult]], None]


def chat_prompt(tokenizer: Any, user: str, system: str = SYSTEM_PROMPT) -> str:
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return str(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))


def _sample(logits: torch.Tensor, temperature: torch.Tensor, top_p: torch.Tensor,
            generator: torch.Generator | None) -> torch.Tensor:
    """Per-row temperature and nucleus sampling; temperature 0 means greedy for that row."""
    greedy = temperature <= 0
    t = torch.where(greedy, torch.ones_like(temperature), temperature)
    probs = torch.softmax(logits / t[:, None], dim=-1)
    sorted_p, sorted_i = probs.sort(dim=-1, descending=True)
    cum = sorted_p.cumsum(dim=-1)
    cut = (cum - sorted_p) > top_p[:, None]
    sorted_p = sorted_p.masked_fill(cut, 0.0)
    choice = torch.multinomial(sorted_p / sorted_p.sum(-1, keepdim=True), 1, generator=generator)
    sampled = sorted_i.gather(-1, choice).squeeze(-1)
    return torch.where(greedy, logits.argmax(-1), sampled)


class Engine:
    """One per worker process: the base model, its tokenizer and the stacked adapters."""

    def __init__(self, model_path: str | None = None, device: str | None = None):
        self.device, self.dtype = pick_device()
        if device:
            self.device = device
        self.tokenizer = load_tokenizer(model_path)
        self.model = load_base_model(model_path, device=self.device)
        self.stack = StackedAdapters(self.model)
        self.adapter_paths: dict[str, Path] = {}
        self.stop_ids = {i for i in (self.tokenizer.eos_token_id,
                                     self.tokenizer.convert_tokens_to_ids("<|endoftext|>"))
                         if isinstance(i, int) and i >= 0}

    # -- adapters ------------------------------------------------------------------------------
    def set_adapters(self, paths: dict[str, Path]) -> None:
        """Stack exactly these adapters (name -> peft folder); cheap when unchanged."""
        if paths == self.adapter_paths:
            return
        self.stack.load([read_peft_adapter(p, name) for name, p in paths.items()])
        self.adapter_paths = dict(paths)

    def ensure_adapters(self, paths: dict[str, Path]) -> None:
        """Add adapters to those already stacked (workspace voices join the shipped tones)."""
        missing = {n: p for n, p in paths.items() if self.adapter_paths.get(n) != p}
        if missing:
            self.set_adapters({**self.adapter_paths, **missing})

    # -- generation ----------------------------------------------------------------------------
    @torch.inference_mode()
    def generate(self, requests: list[SeqRequest], *, on_progress: Progress | None = None,
                 progress_every: int = 8, system: str = SYSTEM_PROMPT) -> list[SeqResult]:
        if not requests:
            return []
        tok = self.tokenizer
        texts = [chat_prompt(tok, r.prompt, system) for r in requests]
        enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        input_ids = enc["input_ids"].to(self.device)
        mask = enc["attention_mask"].to(self.device)
        n = len(requests)
        self.stack.route([r.adapter for r in requests])
        seed = requests[0].seed
        gen = None
        if seed is not None:
            gen = torch.Generator(device=self.device)
            gen.manual_seed(seed)
        temperature = torch.tensor([r.temperature for r in requests], device=self.device)
        top_p = torch.tensor([r.top_p for r in requests], device=self.device)
        penalty = torch.tensor([r.repetition_penalty for r in requests], device=self.device)
        budget = torch.tensor([r.max_new_tokens for r in requests], device=self.device)
        alive = torch.arange(n, device=self.device)  # original row of each batch row
        out_ids: list[list[int]] = [[] for _ in range(n)]
        reasons = ["length"] * n
        seen = torch.zeros(n, self.model.config.vocab_size, dtype=torch.bool, device=self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        from transformers import DynamicCache

        cache = DynamicCache()
        logits = self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions,
                            cache=cache, use_cache=True).logits[:, -1, :].float()
        next_pos = positions[:, -1:] + 1
        stop = torch.tensor(sorted(self.stop_ids), device=self.device)
        no_stop = torch.tensor([r.ignore_eos for r in requests], device=self.device)
        step = 0
        max_steps = int(budget.max())
        while alive.numel() and step < max_steps:
            # CTRL-style repetition penalty over the tokens this row has produced so far.
            rows_seen = seen[alive]
            pen = penalty[alive][:, None]
            logits = torch.where(rows_seen, torch.where(logits > 0, logits / pen, logits * pen),
                                 logits)
            if bool(no_stop[alive].any()):
                logits[no_stop[alive][:, None] & torch.isin(
                    torch.arange(logits.shape[-1], device=self.device), stop)[None, :]] = -torch.inf
            nxt = _sample(logits, temperature[alive], top_p[alive], gen)
            step += 1
            finished = torch.isin(nxt, stop) | (step >= budget[alive])
            for j, row in enumerate(alive.tolist()):
                token = int(nxt[j])
                if token in self.stop_ids:
                    reasons[row] = "stop"
                else:
                    out_ids[row].append(token)
            seen[alive, nxt] = True
            if on_progress is not None and (step % progress_every == 0 or bool(finished.any())):
                on_progress(self._results(requests, out_ids, reasons, partial=True))
            if bool(finished.all()):
                break
            if bool(finished.any()):
                keep = (~finished).nonzero().squeeze(-1)
                alive, nxt, next_pos = alive[keep], nxt[keep], next_pos[keep]
                mask = mask[keep]
                cache.batch_select_indices(keep)
                self.stack.select_rows(keep)
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=-1)
            logits = self.model(input_ids=nxt[:, None], attention_mask=mask, position_ids=next_pos,
                                cache=cache, use_cache=True).logits[:, -1, :].float()
            next_pos = next_pos + 1
        return self._results(requests, out_ids, reasons, partial=False)

    def _results(self, requests: list[SeqRequest], out_ids: list[list[int]], reasons: list[str],
                 *, partial: bool) -> list[SeqResult]:
        def dec(ids: list[int]) -> str:
            return str(self.tokenizer.decode(ids, skip_special_tokens=True)).strip()

        return [SeqResult(key=r.key, text=dec(ids),
                          tokens=len(ids), finish_reason="" if partial and reason == "length"
                          else reason, token_ids=list(ids))
                for r, ids, reason in zip(requests, out_ids, reasons, strict=True)]


@functools.lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The worker's engine, loaded on first use and kept for the life of the process."""
    started = time.monotonic()
    torch.set_num_threads(int(os.environ.get("COPYWRITER_TORCH_THREADS", os.cpu_count() or 1)))
    engine = Engine(os.environ.get("COPYWRITER_MODEL_PATH") or None)
    from copywriter.ml.paths import adapters_dir

    # "name.tmp" folders are adapters being written by a training run right now.
    shipped = {p.name: p for p in sorted(adapters_dir().glob("*"))
               if "." not in p.name and (p / "adapter_model.safetensors").exists()}
    if shipped:
        engine.set_adapters(shipped)
    log.info("engine ready on %s in %.1fs with adapters %s", engine.device,
             time.monotonic() - started, sorted(shipped))
    return engine
