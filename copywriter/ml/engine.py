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
from typing import Any, NamedTuple

import torch
from transformers.cache_utils import DynamicCache, DynamicLayer

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


TOP_K = 64  # nucleus sampling looks at the 64 most likely tokens (sorting 49k per row per step
#            cost more than the model's last layer; the mass beyond them is negligible at top_p<1)


def _sample(logits: torch.Tensor, temperature: torch.Tensor, top_p: torch.Tensor,
            generator: torch.Generator | None) -> torch.Tensor:
    """Per-row temperature and nucleus sampling; temperature 0 means greedy for that row."""
    top_logits, top_ids = logits.topk(min(TOP_K, logits.shape[-1]), dim=-1)  # sorted, descending
    greedy = temperature <= 0
    t = torch.where(greedy, torch.ones_like(temperature), temperature)
    probs = torch.softmax(top_logits / t[:, None], dim=-1)
    cum = probs.cumsum(dim=-1)
    probs = probs.masked_fill((cum - probs) > top_p[:, None], 0.0)
    choice = torch.multinomial(probs, 1, generator=generator)
    sampled = top_ids.gather(-1, choice).squeeze(-1)
    return torch.where(greedy, top_ids[:, 0], sampled)


class _GrowingLayer(DynamicLayer):
    """A KV-cache layer that writes into preallocated room instead of concatenating.

    ``DynamicLayer`` copies the whole cache on every step (``torch.cat``); here the tensors grow
    in chunks and each step writes one position, so a step costs the same at token 10 and 300.
    """

    CHUNK = 128

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        super().lazy_initialization(key_states, value_states)
        self.length = 0
        self._k: torch.Tensor | None = None
        self._v: torch.Tensor | None = None

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any,
               **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        end = self.length + key_states.shape[-2]
        k, v = self._k, self._v
        if k is None or v is None or end > k.shape[-2]:
            room = end + self.CHUNK
            grown_k = key_states.new_zeros(*key_states.shape[:-2], room, key_states.shape[-1])
            grown_v = value_states.new_zeros(*value_states.shape[:-2], room,
                                             value_states.shape[-1])
            if k is not None and v is not None:
                grown_k[..., : self.length, :] = k[..., : self.length, :]
                grown_v[..., : self.length, :] = v[..., : self.length, :]
            k, v = self._k, self._v = grown_k, grown_v
        k[..., self.length:end, :] = key_states
        v[..., self.length:end, :] = value_states
        self.length = end
        self.keys, self.values = k[..., :end, :], v[..., :end, :]
        return k[..., :end, :], v[..., :end, :]

    def get_seq_length(self) -> int:
        return self.length if self.is_initialized else 0

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self.is_initialized and self._k is not None and self._v is not None:
            k, v = self._k, self._v = self._k[indices], self._v[indices]
            self.keys, self.values = k[..., : self.length, :], v[..., : self.length, :]


def _new_cache() -> DynamicCache:
    cache = DynamicCache()
    cache.layer_class_to_replicate = _GrowingLayer
    return cache


class _Prefill(NamedTuple):
    input_ids: torch.Tensor
    mask: torch.Tensor
    positions: torch.Tensor
    cache: DynamicCache
    prefix_mask: torch.Tensor  # ones over the reused prefix (width 0 when there is none)


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
        self.reuse_prefix = True
        # (system prompt, adapter) -> the shared chat prefix's K/V for every layer
        self._prefix_kv: dict[tuple[str, str], list[tuple[torch.Tensor, torch.Tensor]]] = {}

    # -- adapters ------------------------------------------------------------------------------
    def set_adapters(self, paths: dict[str, Path]) -> None:
        """Stack exactly these adapters (name -> peft folder); cheap when unchanged."""
        if paths == self.adapter_paths:
            return
        self.stack.load([read_peft_adapter(p, name) for name, p in paths.items()])
        self.adapter_paths = dict(paths)
        self._prefix_kv.clear()

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
        n = len(requests)
        input_ids, mask, positions, cache, prefix_mask = self._prefill_inputs(requests, system)
        mask = torch.cat([prefix_mask, mask], dim=-1)
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
        max_steps = int(budget.max())
        # Tokens produced so far, one column per step: every live row has produced `step` tokens.
        history = torch.zeros(n, max_steps, dtype=torch.long, device=self.device)
        logits = self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions,
                            cache=cache, use_cache=True, logits_to_keep=1).logits[:, -1, :].float()
        next_pos = positions[:, -1:] + 1
        stop = torch.tensor(sorted(self.stop_ids), device=self.device)
        no_stop = torch.tensor([r.ignore_eos for r in requests], device=self.device)
        step = 0
        while alive.numel() and step < max_steps:
            if step:
                # CTRL-style repetition penalty on the tokens this row has produced so far.
                hist = history[:, :step]
                prev = logits.gather(1, hist)
                pen = penalty[alive][:, None]
                logits.scatter_(1, hist, torch.where(prev > 0, prev / pen, prev * pen))
            rows_no_stop = no_stop[alive]
            if bool(rows_no_stop.any()):
                logits[:, stop] = logits[:, stop].masked_fill(rows_no_stop[:, None], -torch.inf)
            nxt = _sample(logits, temperature[alive], top_p[alive], gen)
            history[:, step] = nxt
            step += 1
            finished = torch.isin(nxt, stop) | (step >= budget[alive])
            for row, token in zip(alive.tolist(), nxt.tolist(), strict=True):
                if token in self.stop_ids:
                    reasons[row] = "stop"
                else:
                    out_ids[row].append(token)
            if on_progress is not None and (step % progress_every == 0 or bool(finished.any())):
                on_progress(self._results(requests, out_ids, reasons, partial=True))
            if bool(finished.all()):
                break
            if bool(finished.any()):
                keep = (~finished).nonzero().squeeze(-1)
                alive, nxt, next_pos = alive[keep], nxt[keep], next_pos[keep]
                mask, history = mask[keep], history[keep]
                cache.batch_select_indices(keep)
                self.stack.select_rows(keep)
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=-1)
            logits = self.model(input_ids=nxt[:, None], attention_mask=mask, position_ids=next_pos,
                                cache=cache, use_cache=True).logits[:, -1, :].float()
            next_pos = next_pos + 1
        return self._results(requests, out_ids, reasons, partial=False)

    def _prefill_inputs(self, requests: list[SeqRequest], system: str) -> _Prefill:
        """Token ids to prefill and a KV cache that already holds the shared chat prefix.

        Every prompt starts with the same system message and chat markup (about 20 tokens); its
        K/V depend only on the adapter, so they are computed once per adapter and reused. Rows
        are then ``[prefix][padding][own tokens]``: the padding is masked out and positions
        continue from the prefix, which gives the same result as prefilling each whole prompt.
        """
        tok = self.tokenizer
        texts = [chat_prompt(tok, r.prompt, system) for r in requests]
        names = [r.adapter for r in requests]
        prefix = chat_prompt(tok, "\x00", system).split("\x00")[0]
        prefix_ids = tok(prefix, add_special_tokens=False)["input_ids"]
        full = tok(texts, add_special_tokens=False)["input_ids"]
        p = len(prefix_ids)
        if not self.reuse_prefix or any(ids[:p] != prefix_ids or len(ids) == p for ids in full):
            self.stack.route(names)
            enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            mask = enc["attention_mask"].to(self.device)
            empty = mask[:, :0]
            return _Prefill(enc["input_ids"].to(self.device), mask,
                            (mask.cumsum(-1) - 1).clamp(min=0), _new_cache(), empty)
        own = [ids[p:] for ids in full]
        width = max(len(ids) for ids in own)
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in own],
                                 device=self.device)
        mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in own],
                            device=self.device)
        positions = p + (mask.cumsum(-1) - 1).clamp(min=0)
        per_adapter = self._prefix_states(system, prefix_ids, sorted(set(names)))
        cache = _new_cache()
        for layer in range(len(per_adapter[names[0]])):
            keys = torch.cat([per_adapter[name][layer][0] for name in names])
            values = torch.cat([per_adapter[name][layer][1] for name in names])
            cache.update(keys, values, layer)
        self.stack.route(names)  # after _prefix_states, which routes the adapters it computes
        return _Prefill(input_ids, mask, positions, cache,
                        torch.ones(len(requests), p, dtype=mask.dtype, device=self.device))

    def _prefix_states(self, system: str, prefix_ids: list[int], names: list[str]
                       ) -> dict[str, list[tuple[torch.Tensor, torch.Tensor]]]:
        missing = [name for name in names if (system, name) not in self._prefix_kv]
        if missing:
            ids = torch.tensor([prefix_ids] * len(missing), device=self.device)
            self.stack.route(missing)
            cache = DynamicCache()
            self.model(input_ids=ids, cache=cache, use_cache=True, logits_to_keep=1)
            for row, name in enumerate(missing):
                layers: list[Any] = list(cache.layers)
                self._prefix_kv[(system, name)] = [
                    (lay.keys[row:row + 1].clone(), lay.values[row:row + 1].clone())
                    for lay in layers]
        return {name: self._prefix_kv[(system, name)] for name in names}

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
