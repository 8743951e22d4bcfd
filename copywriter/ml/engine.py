"""Batched, mixed-adapter text generation with per-row sampling and streaming callbacks.

A hand-written decode loop (rather than ``model.generate``) because every row carries its own
adapter, sampling settings and token budget, and the caller gets partial texts while tokens come
(the browser shows them). Batching is continuous (iteration-level, as vLLM, TGI and LoRAX do):
a ``Session`` admits new rows at any step boundary (their own prefill forward, then their K/V
joined to the running batch, right-aligned and masked) and drops each row the step it finishes,
so nobody waits for the slowest row of a batch. ``Engine.generate`` is one session run to the end.
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

from copywriter.ml import config
from copywriter.ml.lora import BASE, StackedAdapters, read_peft_adapter
from copywriter.ml.model import load_base_model, load_tokenizer, pick_device

log = logging.getLogger(__name__)
SYSTEM_PROMPT = "You are a marketing copywriter. Write only the requested copy."
# About 250 prompt tokens: a prefill of about half a second on a 2-core CPU (bench/serving.py)
PREFILL_CHARS = 1000


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
    # One line only (a slot item: a headline, a subject line): the row stops at the first line
    # break after some text, and its text is that line.
    one_line: bool = False
    key: Any = None  # caller's handle, passed back in results and progress
    # Queued rows of a higher priority are prefilled first when not all fit one step's prefill
    # (``Engine.prefill_chars``): the worker gives interactive rows 1, bulk rows 0.
    priority: int = 0
    # The answer's first words, placed after the prompt's chat markup: the row writes on from
    # them and its text starts with them (a slot item that must carry the brief's search term).
    answer: str = ""


@dataclass
class SeqResult:
    key: Any
    text: str
    tokens: int
    finish_reason: str  # "stop" or "length"
    token_ids: list[int] = field(default_factory=list, repr=False)
    # The model's own log-probability of the tokens it wrote (before the repetition penalty,
    # at temperature 1): the fluency term of the best-of-N score.
    logprob: float = 0.0


Progress = Callable[[list[SeqResult]], None]


def chat_prompt(tokenizer: Any, user: str, system: str = SYSTEM_PROMPT) -> str:
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return str(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))


TOP_K = 64  # nucleus sampling looks at the 64 most likely tokens (sorting 49k per row per step
#            cost more than the model's last layer; the mass beyond them is negligible at top_p<1)


def _sample(logits: torch.Tensor, temperature: torch.Tensor, top_p: torch.Tensor,
            uniform: torch.Tensor) -> torch.Tensor:
    """Per-row temperature and nucleus sampling; temperature 0 means greedy for that row.

    ``uniform`` (rows,) in [0, 1) is each row's own draw for this token (inverse-CDF sampling),
    so what a row writes depends on its seed only, not on which rows share its batch.
    """
    top_logits, top_ids = logits.topk(min(TOP_K, logits.shape[-1]), dim=-1)  # sorted, descending
    greedy = temperature <= 0
    t = torch.where(greedy, torch.ones_like(temperature), temperature)
    probs = torch.softmax(top_logits / t[:, None], dim=-1)
    cum = probs.cumsum(dim=-1)
    probs = probs.masked_fill((cum - probs) > top_p[:, None], 0.0)
    cum = probs.cumsum(dim=-1)
    # the first token whose cumulative mass passes the draw (never one of zero mass)
    choice = (cum <= (uniform * cum[:, -1])[:, None]).sum(dim=-1).clamp(max=cum.shape[-1] - 1)
    sampled = top_ids.gather(-1, choice[:, None]).squeeze(-1)
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

    def join(self, other: _GrowingLayer) -> None:
        """Append ``other``'s rows after these, both right-aligned to the longer of the two.

        The columns left of a row's own states hold zeros that the caller masks out; positions
        travel separately (``position_ids``), so moving a row's states right changes nothing.
        One copy of both caches: it happens when rows join, never in the steady state.
        """
        assert self._k is not None and self._v is not None
        assert other._k is not None and other._v is not None
        width = max(self.length, other.length)
        room = width + self.CHUNK
        self._k = _right_aligned(self._k, self.length, other._k, other.length, width, room)
        self._v = _right_aligned(self._v, self.length, other._v, other.length, width, room)
        self.length = width
        self.keys, self.values = self._k[..., :width, :], self._v[..., :width, :]

    def trim_front(self, columns: int) -> None:
        """Forget the first ``columns`` positions (masked for every row): a view, no copy."""
        if self._k is None or self._v is None or columns <= 0:
            return
        self._k, self._v = self._k[..., columns:, :], self._v[..., columns:, :]
        self.length -= columns
        self.keys, self.values = self._k[..., : self.length, :], self._v[..., : self.length, :]


def _right_aligned(a: torch.Tensor, a_len: int, b: torch.Tensor, b_len: int, width: int,
                   room: int) -> torch.Tensor:
    out = a.new_zeros(a.shape[0] + b.shape[0], *a.shape[1:-2], room, a.shape[-1])
    out[: a.shape[0], ..., width - a_len: width, :] = a[..., :a_len, :]
    out[a.shape[0]:, ..., width - b_len: width, :] = b[..., :b_len, :]
    return out


def _new_cache() -> DynamicCache:
    cache = DynamicCache()
    cache.layer_class_to_replicate = _GrowingLayer
    return cache


def _cache_rows(cache: DynamicCache, rows: torch.Tensor) -> DynamicCache:
    """A new cache holding copies of ``cache``'s rows at these indexes (repeats allowed)."""
    out = _new_cache()
    for n, layer in enumerate(cache.layers):
        assert isinstance(layer, _GrowingLayer)
        assert layer.keys is not None and layer.values is not None
        out.update(layer.keys[rows], layer.values[rows], n)
    return out


class _Prefilled(NamedTuple):
    logits: torch.Tensor  # (rows, vocab) the next token's
    cache: DynamicCache
    mask: torch.Tensor  # (rows, cache columns)
    positions: torch.Tensor  # (rows, 1) the position of each row's next token


def _common(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def _stems(names: list[str], own: list[list[int]], least: int) -> list[tuple[list[int], int]]:
    """Groups of rows (indexes) with the same adapter whose token lists share at least ``least``
    leading tokens, each with the length to prefill once: the shared start, short of every
    member's last token (each member keeps a token of its own to prefill, for its logits).
    Rows in no group are left out."""
    order = sorted(range(len(own)), key=lambda i: (names[i], own[i]))
    groups: list[tuple[list[int], int]] = []
    members: list[int] = []
    length = 0

    def close() -> None:
        size = min([length] + [len(own[i]) - 1 for i in members])
        if len(members) > 1 and size >= least:
            groups.append((list(members), size))

    for i in order:
        if members and names[i] == names[members[0]]:
            shared = min(length, _common(own[members[0]], own[i]))
            if shared >= least:
                members.append(i)
                length = shared
                continue
        if members:
            close()
        members, length = [i], len(own[i])
    if members:
        close()
    return groups


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
        # Rows sharing this many prompt tokens past the chat prefix prefill them once (``_stems``)
        self.share_prefill = True
        self.share_at_least = 16
        # A step that admits rows runs their prefill alone (first token out sooner); off, it
        # also decodes the running rows (``Session._step``)
        self.prefill_alone = True
        # Prompt characters one step prefills at most (distinct prompts; at least one row): a
        # bulk run's claim of 24 rows is spread over steps, so no step holds the running rows
        # or a new request's first token for seconds. 0: no limit.
        self.prefill_chars = PREFILL_CHARS
        self._line_breaks: set[int] | None = None
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

    @property
    def line_breaks(self) -> set[int]:
        """Token ids whose text holds a line break (one pass over the vocabulary, once)."""
        if self._line_breaks is None:
            tok = self.tokenizer
            self._line_breaks = {i for i in range(len(tok)) if "\n" in tok.decode([i])}
        return self._line_breaks

    # -- generation ----------------------------------------------------------------------------
    def session(self, *, system: str = SYSTEM_PROMPT) -> Session:
        """A continuously batched decode loop: ``add`` rows at any time, ``step`` until empty.

        One engine can serve several sessions in turn (each routes its own rows before its
        forwards), but a session belongs to one thread.
        """
        return Session(self, system=system)

    @torch.inference_mode()
    def generate(self, requests: list[SeqRequest], *, on_progress: Progress | None = None,
                 progress_every: int = 8, system: str = SYSTEM_PROMPT) -> list[SeqResult]:
        """All ``requests`` as one batch, to the end; results in the order of ``requests``.

        ``on_progress`` gets every row's result so far (finished or not) every
        ``progress_every`` steps and at each step where a row finishes.
        """
        if not requests:
            return []
        session = self.session(system=system)
        rows = session._add(requests)
        while session.live or session.pending:
            finished = session._step()
            if on_progress is not None and (finished or session.steps % progress_every == 0):
                on_progress(self._results(requests, [r.out_ids for r in rows],
                                          [r.reason for r in rows], partial=True))
        return self._results(requests, [r.out_ids for r in rows], [r.reason for r in rows],
                             partial=False, logprobs=[r.logprob for r in rows])

    def _prefill(self, requests: list[SeqRequest], system: str) -> _Prefilled:
        """Prefill ``requests`` and return their next-token logits and KV cache.

        Every prompt starts with the same system message and chat markup (about 20 tokens); its
        K/V depend only on the adapter, so they are computed once per adapter and reused. Rows
        with the same prompt and adapter (a job's variants and candidates; a slot item's in every
        variant) are prefilled once and copied. Rows of one adapter whose prompts share a longer
        start (a slot variant's items all repeat the brief) are grouped: the shared
        start (the *stem*) is prefilled once per group, its K/V copied to every member, and only
        each member's own rest is prefilled after it. Rows are laid out
        ``[prefix][padding][stem][padding][rest]``: the padding is masked and positions run on
        from the prefix, which gives the same result as prefilling each whole prompt.
        """
        tok = self.tokenizer
        texts = [chat_prompt(tok, r.prompt, system) + r.answer for r in requests]
        names = [r.adapter for r in requests]
        prefix = chat_prompt(tok, "\x00", system).split("\x00")[0]
        prefix_ids = tok(prefix, add_special_tokens=False)["input_ids"]
        full = tok(texts, add_special_tokens=False)["input_ids"]
        if self.share_prefill:  # the same prompt on the same adapter: prefilled once, copied
            first: dict[tuple[str, tuple[int, ...]], int] = {}  # (adapter, ids) -> its row
            index = [first.setdefault((name, tuple(ids)), len(first))
                     for name, ids in zip(names, full, strict=True)]
            if len(first) < len(full):
                pre = self._prefill_ids([k[0] for k in first], [list(k[1]) for k in first],
                                        system, prefix_ids)
                take = torch.tensor(index, device=self.device)
                for layer in pre.cache.layers:
                    assert isinstance(layer, _GrowingLayer)
                    layer.batch_select_indices(take)
                return _Prefilled(pre.logits[take], pre.cache, pre.mask[take],
                                  pre.positions[take])
        return self._prefill_ids(names, full, system, prefix_ids)

    def _prefill_ids(self, names: list[str], full: list[list[int]], system: str,
                     prefix_ids: list[int]) -> _Prefilled:
        """``_prefill`` of tokenized prompts (``full``: chat prompts, ``prefix_ids``: the chat
        prefix's tokens)."""
        p = len(prefix_ids)
        if not self.reuse_prefix or any(ids[:p] != prefix_ids or len(ids) == p for ids in full):
            cache = _new_cache()
            no_prefix = torch.zeros(len(full), 0, dtype=torch.long, device=self.device)
            return self._extend(names, full, cache, no_prefix,
                                torch.zeros(len(full), 1, dtype=torch.long, device=self.device))
        own = [ids[p:] for ids in full]
        per_adapter = self._prefix_states(system, prefix_ids, sorted(set(names)))
        stems = _stems(names, own, self.share_at_least) if self.share_prefill else []
        if not stems:
            cache = self._prefix_cache(names, per_adapter)
            start = torch.full((len(full), 1), p, device=self.device)
            prefix_mask = torch.ones(len(full), p, dtype=torch.long, device=self.device)
            return self._extend(names, own, cache, prefix_mask, start)
        # A row in no group is a group of its own, all but its last token its stem: the first
        # forward then prefills every long start and the second only short rests (one long
        # row in the second would pad every row to its length).
        grouped = {i for members, _ in stems for i in members}
        stems += [([i], len(own[i]) - 1) for i in range(len(own)) if i not in grouped]
        # 1. the stems, one row each, after their adapter's prefix
        stem_names = [names[members[0]] for members, _ in stems]
        stem_ids = [own[members[0]][:length] for members, length in stems]
        start = torch.full((len(stems), 1), p, device=self.device)
        prefix_mask = torch.ones(len(stems), p, dtype=torch.long, device=self.device)
        stem = self._extend(stem_names, stem_ids, self._prefix_cache(stem_names, per_adapter),
                            prefix_mask, start)
        # 2. every row's own rest, after a copy of its stem's K/V
        source = [0] * len(full)
        shared = [0] * len(full)
        for g, (members, length) in enumerate(stems):
            for i in members:
                source[i], shared[i] = g, length
        index = torch.tensor(source, device=self.device)
        cache = _cache_rows(stem.cache, index)
        start = torch.tensor([[p + shared[i]] for i in range(len(full))], device=self.device)
        rest = [ids[shared[i]:] for i, ids in enumerate(own)]
        return self._extend(names, rest, cache, stem.mask[index], start)

    def _prefix_cache(self, names: list[str],
                      per_adapter: dict[str, list[tuple[torch.Tensor, torch.Tensor]]]
                      ) -> DynamicCache:
        """A cache whose rows hold their adapter's chat prefix."""
        cache = _new_cache()
        for layer in range(len(per_adapter[names[0]])):
            cache.update(torch.cat([per_adapter[name][layer][0] for name in names]),
                         torch.cat([per_adapter[name][layer][1] for name in names]), layer)
        return cache

    def _extend(self, names: list[str], ids: list[list[int]], cache: DynamicCache,
                mask: torch.Tensor, start: torch.Tensor) -> _Prefilled:
        """Prefill ``ids`` (one list a row, left-padded) after what ``cache`` holds (``mask``
        its columns); ``start`` (rows, 1) is each row's first position."""
        width = max(len(x) for x in ids)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=self.device)
        own = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=self.device)
        positions = start + (own.cumsum(-1) - 1).clamp(min=0)
        mask = torch.cat([mask, own.to(mask.dtype)], dim=-1)
        self.stack.route(names)  # after _prefix_states, which routes the adapters it computes
        logits = self._forward(input_ids, mask, positions, cache)
        return _Prefilled(logits, cache, mask, positions[:, -1:] + 1)

    def _forward(self, input_ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor,
                 cache: DynamicCache) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions,
                          cache=cache, use_cache=True, logits_to_keep=1).logits[:, -1, :].float()

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
                 *, partial: bool, logprobs: list[float] | None = None) -> list[SeqResult]:
        def dec(r: SeqRequest, ids: list[int]) -> str:
            text = (r.answer + str(self.tokenizer.decode(ids, skip_special_tokens=True))).strip()
            if r.one_line:
                lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
                text = next((ln for ln in lines if not ln.endswith(":")), lines[0] if lines else "")
            return text

        lps = logprobs or [0.0] * len(requests)
        return [SeqResult(key=r.key, text=dec(r, ids),
                          tokens=len(ids), finish_reason="" if partial and reason == "length"
                          else reason, token_ids=list(ids), logprob=lp)
                for r, ids, reason, lp in zip(requests, out_ids, reasons, lps, strict=True)]


@dataclass(eq=False)
class _Row:
    request: SeqRequest
    out_ids: list[int] = field(default_factory=list)
    reason: str = "length"
    logprob: float = 0.0


def _has_line(text: str) -> bool:
    """A one-line row is done at a line break once it wrote a line that is not just a label
    ("Headline:" alone, as small models like to start)."""
    return any(line.strip() and not line.strip().endswith(":") for line in text.split("\n")[:-1])


def _left_pad(t: torch.Tensor, width: int) -> torch.Tensor:
    return torch.nn.functional.pad(t, (width - t.shape[-1], 0))


def _right_pad(t: torch.Tensor, width: int) -> torch.Tensor:
    return torch.nn.functional.pad(t, (0, width - t.shape[-1]))


@dataclass
class _Batch:
    """The live rows' decode state on the device, one row per live row, in the same order."""

    cache: DynamicCache
    mask: torch.Tensor  # (rows, cache columns): 1 over the row's own states, 0 over padding
    positions: torch.Tensor  # (rows, 1) position of the token each row is fed next
    # (rows,) each row's latest token: sampled (and shown) at the last step, fed at the next
    next: torch.Tensor
    # (rows, longest budget) tokens produced so far; past a row's count, copies of its first
    # token (so one gather/scatter penalises exactly the produced tokens)
    history: torch.Tensor
    uniforms: torch.Tensor  # (rows, longest budget) each row's own draws, one per token
    produced: torch.Tensor  # (rows,) tokens sampled so far
    temperature: torch.Tensor
    top_p: torch.Tensor
    penalty: torch.Tensor
    no_stop: torch.Tensor  # rows that write their whole budget (end-of-text masked out)

    _PER_ROW = ("mask", "positions", "next", "history", "uniforms", "produced", "temperature",
                "top_p", "penalty", "no_stop")

    @property
    def width(self) -> int:
        return int(self.mask.shape[-1])

    def select(self, keep: torch.Tensor) -> None:
        self.cache.batch_select_indices(keep)
        for name in self._PER_ROW:
            setattr(self, name, getattr(self, name)[keep])
        self.trim()

    def take(self, rows: torch.Tensor) -> _Batch:
        """A new batch holding copies of these rows (by index); this one is unchanged."""
        out = _Batch(cache=_cache_rows(self.cache, rows),
                     **{name: getattr(self, name)[rows] for name in self._PER_ROW})
        out.trim()
        return out

    def join(self, other: _Batch) -> None:
        """Append ``other``'s rows: caches and masks right-aligned to the longer one."""
        width = max(self.width, other.width)
        for mine, theirs in zip(self.cache.layers, other.cache.layers, strict=True):
            assert isinstance(mine, _GrowingLayer) and isinstance(theirs, _GrowingLayer)
            mine.join(theirs)
        self.mask = torch.cat([_left_pad(self.mask, width), _left_pad(other.mask, width)])
        steps = max(self.history.shape[-1], other.history.shape[-1])
        for name in ("history", "uniforms"):
            setattr(self, name, torch.cat([_right_pad(getattr(self, name), steps),
                                           _right_pad(getattr(other, name), steps)]))
        for name in self._PER_ROW:
            if name not in ("mask", "history", "uniforms"):
                setattr(self, name, torch.cat([getattr(self, name), getattr(other, name)]))

    def trim(self) -> None:
        """Drop the leading columns that no row attends to (they pile up as rows come and go)."""
        lead = int(self.mask.any(dim=0).to(torch.int8).argmax())
        if lead:
            for layer in self.cache.layers:
                assert isinstance(layer, _GrowingLayer)
                layer.trim_front(lead)
            self.mask = self.mask[:, lead:]


class Session:
    """Continuous (iteration-level) batching: rows join at any step and leave when they finish.

    ``add`` queues rows; a ``step`` that finds rows queued prefills them (the per-adapter
    system-prefix K/V reused), draws their first token and joins them to the running batch;
    otherwise one decode forward feeds every live row its latest token and each draws its next
    (``_step``). It returns the rows that finished.
    A row writes the same tokens whichever rows share its batch and whenever it joined: greedy
    rows exactly what they write alone, sampled rows by their own ``seed`` (one generator each;
    rows without a seed draw from torch's global generator when they join).
    """

    def __init__(self, engine: Engine, *, system: str = SYSTEM_PROMPT):
        self.engine = engine
        self.system = system
        self.steps = 0
        # Rows set aside by ``park``: their decode state kept as it was, no forward runs them
        self._parked: _Batch | None = None
        self._parked_rows: list[_Row] = []
        # keys of the rows whose first token was sampled by the last step() (time to first token)
        self.started: list[Any] = []
        self._pending: list[_Row] = []
        self._rows: list[_Row] = []
        self._batch: _Batch | None = None
        self._routed: tuple[Any, ...] | None = None
        self._waited = False  # the last step was a prefill step: the running rows waited
        self._stop = torch.tensor(sorted(engine.stop_ids), device=engine.device)

    @property
    def live(self) -> int:
        """Rows started and not finished: decoding, or parked."""
        return len(self._rows) + len(self._parked_rows)

    @property
    def active(self) -> int:
        """Rows each step decodes (the live rows that are not parked)."""
        return len(self._rows)

    def parked(self) -> set[Any]:
        return {row.request.key for row in self._parked_rows}

    def written(self) -> dict[Any, int]:
        """Tokens each decoding row has written so far."""
        return {row.request.key: len(row.out_ids) for row in self._rows}

    @torch.inference_mode()
    def park(self, keys: set[Any]) -> None:
        """Set these decoding rows aside: steps leave them out (a smaller batch decodes faster,
        for the rows that must not wait) and ``resume`` puts them back exactly where they were
        (their cache, positions, latest tokens and draws are kept), so they write the same
        tokens as if never parked."""
        idx = [i for i, row in enumerate(self._rows) if row.request.key in keys]
        if not idx or self._batch is None:
            return
        parked = self._batch.take(torch.tensor(idx, device=self.engine.device))
        rows = [self._rows[i] for i in idx]
        gone = set(idx)
        self._keep([i for i in range(len(self._rows)) if i not in gone])
        if self._parked is None:
            self._parked, self._parked_rows = parked, rows
        else:
            self._parked.join(parked)
            self._parked_rows += rows

    @torch.inference_mode()
    def resume(self, keys: set[Any] | None = None) -> None:
        """Put parked rows (these, or all) back into the decoding batch."""
        if self._parked is None:
            return
        idx = [i for i, row in enumerate(self._parked_rows)
               if keys is None or row.request.key in keys]
        if not idx:
            return
        if len(idx) == len(self._parked_rows):
            back, rows = self._parked, self._parked_rows
            self._parked, self._parked_rows = None, []
        else:
            back = self._parked.take(torch.tensor(idx, device=self.engine.device))
            rows = [self._parked_rows[i] for i in idx]
            chosen = set(idx)
            rest = [i for i in range(len(self._parked_rows)) if i not in chosen]
            self._parked.select(torch.tensor(rest, device=self.engine.device))
            self._parked_rows = [self._parked_rows[i] for i in rest]
        if self._batch is None:
            self._batch = back
        else:
            self._batch.join(back)
        self._rows += rows
        self._routed = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def width(self) -> int:
        """Columns of the live rows' KV cache (0 when none is live)."""
        return self._batch.width if self._batch is not None else 0

    def add(self, requests: list[SeqRequest]) -> None:
        """Queue rows; they are prefilled and join the batch at the next ``step``.

        An adapter that is not stacked is refused here (KeyError), before anything runs.
        """
        self._add(requests)

    def _add(self, requests: list[SeqRequest]) -> list[_Row]:
        known = set(self.engine.stack.names)
        for r in requests:
            if r.adapter not in known:
                raise KeyError(r.adapter)
        rows = [_Row(r) for r in requests]
        self._pending += rows
        return rows

    def cancel(self, keys: set[Any]) -> None:
        """Drop live and queued rows whose ``SeqRequest.key`` is in ``keys``; no result comes."""
        self._pending = [row for row in self._pending if row.request.key not in keys]
        stay = [i for i, row in enumerate(self._parked_rows) if row.request.key not in keys]
        if self._parked is not None and len(stay) < len(self._parked_rows):
            if stay:
                with torch.inference_mode():
                    self._parked.select(torch.tensor(stay, device=self.engine.device))
            else:
                self._parked = None
            self._parked_rows = [self._parked_rows[i] for i in stay]
        keep = [i for i, row in enumerate(self._rows) if row.request.key not in keys]
        if len(keep) < len(self._rows):
            with torch.inference_mode():
                self._keep(keep)

    def partial(self) -> list[SeqResult]:
        """The live rows' texts so far (``finish_reason`` ""; ``tokens`` counts what was written)."""
        return [self._result(row, partial=True) for row in self._rows + self._parked_rows]

    @torch.inference_mode()
    def step(self) -> list[SeqResult]:
        """Admit the queued rows, write one token for every live row, return the finished rows
        (``finish_reason`` "stop" or "length"); they have left the batch."""
        return [self._result(row, partial=False) for row in self._step()]

    def _result(self, row: _Row, *, partial: bool) -> SeqResult:
        return self.engine._results([row.request], [row.out_ids], [row.reason],
                                    partial=partial, logprobs=[row.logprob])[0]

    def _step(self) -> list[_Row]:
        """Rows that join write their first token in the step that prefills them. A step that
        finds rows queued is a prefill step: only the new rows run (prefilled, first token
        drawn), so what they write shows after their prefill alone; the running rows wait one
        step and are fed their latest tokens, with the new rows' first ones, at
        the next. That next step admits whatever was queued meanwhile and decodes, so however
        often rows arrive the running ones decode at least every other step, and a prefill
        costs them the time it cost when it shared a step with a decode."""
        self.steps += 1
        if self._pending and self.engine.prefill_alone and not self._waited:
            done = self._admit()[0]
            self._waited = True
            return done
        self._waited = False
        done, _ = self._admit()
        if self._batch is None and self._parked is not None:
            self.resume()  # nothing else to decode: parked rows go on
        if self._batch is None:
            return done
        finished, self._rows = self._draw(self._batch, self._rows, self._feed())
        if not self._rows:
            self._batch = None
        if finished:
            self._routed = None
        return done + finished

    def _draw(self, b: _Batch, rows: list[_Row], logits: torch.Tensor
              ) -> tuple[list[_Row], list[_Row]]:
        """Sample every row of ``b`` from its ``logits`` (penalised, each by its own draws) and
        record the tokens; rows that end leave ``b``. Returns (finished, staying) rows."""
        own = torch.log_softmax(logits, dim=-1)  # the model's own distribution, for fluency
        # CTRL-style repetition penalty on the tokens each row has produced so far.
        prev = logits.gather(1, b.history)
        pen = torch.where(b.produced > 0, b.penalty, torch.ones_like(b.penalty))[:, None]
        logits.scatter_(1, b.history, torch.where(prev > 0, prev / pen, prev * pen))
        if any(row.request.ignore_eos for row in rows):
            logits[:, self._stop] = logits[:, self._stop].masked_fill(b.no_stop[:, None],
                                                                      -torch.inf)
        column = b.produced[:, None]
        nxt = _sample(logits, b.temperature, b.top_p, b.uniforms.gather(1, column).squeeze(1))
        b.history = torch.where(column == 0, nxt[:, None], b.history)
        b.history.scatter_(1, column, nxt[:, None])
        b.produced = b.produced + 1
        b.next = nxt
        stop_ids = self.engine.stop_ids
        chosen = own.gather(1, nxt[:, None]).squeeze(1).tolist()
        breaks = self.engine.line_breaks if any(r.request.one_line for r in rows) else set()
        keep: list[int] = []
        for i, (row, token) in enumerate(zip(rows, nxt.tolist(), strict=True)):
            if token in stop_ids:
                row.reason = "stop"
                continue
            row.out_ids.append(token)
            row.logprob += chosen[i]
            if (token in breaks and row.request.one_line
                    and _has_line(row.request.answer
                                  + str(self.engine.tokenizer.decode(row.out_ids)))):
                row.reason = "stop"  # the line is written
            elif len(row.out_ids) < row.request.max_new_tokens:
                keep.append(i)
        if len(keep) == len(rows):
            return [], rows
        staying = set(keep)
        finished = [row for i, row in enumerate(rows) if i not in staying]
        if keep:
            b.select(torch.tensor(keep, device=nxt.device))
        return finished, [rows[i] for i in keep]

    def _feed(self) -> torch.Tensor:
        """One decode forward: every running row reads its latest token; the next-token logits."""
        b = self._batch
        assert b is not None
        b.mask = torch.cat([b.mask, torch.ones_like(b.mask[:, :1])], dim=-1)
        self._route()
        logits = self.engine.model(input_ids=b.next[:, None], attention_mask=b.mask,
                                   position_ids=b.positions, cache=b.cache,
                                   use_cache=True).logits[:, -1, :].float()
        b.positions = b.positions + 1
        return logits

    def _keep(self, keep: list[int]) -> None:
        """Only these live rows stay (by index); the others leave the batch now."""
        self._rows = [self._rows[i] for i in keep]
        if not keep:
            self._batch = None
        elif self._batch is not None:
            self._batch.select(torch.tensor(keep, device=self.engine.device))
        self._routed = None

    def _route(self) -> None:
        """Route the adapters of the live rows unless the stack still has this session's routing
        (a prefill, another session or a reload of the adapters may have changed it)."""
        r = self.engine.stack.routing
        done = self._routed
        if done is None or done[0] != r.single or done[1] is not r.index or done[2] is not r.names:
            self.engine.stack.route([row.request.adapter for row in self._rows])
            self._routed = (r.single, r.index, r.names)

    def _within_budget(self, rows: list[_Row]) -> tuple[list[_Row], list[_Row]]:
        """The queued rows this step prefills and those that wait for the next step: highest
        priority first, then in the order they came, each that still fits ``prefill_chars``
        (what its prompt adds to the prompts taken; a copy adds nothing); at least one."""
        budget = self.engine.prefill_chars
        if not budget or len(rows) < 2:
            return rows, []
        order = sorted(rows, key=lambda row: -row.request.priority)  # stable: arrival order
        taken: dict[str, list[str]] = {}  # adapter -> prompts taken
        now: list[_Row] = []
        wait: list[_Row] = []
        spent = 0
        for row in order:
            mine = taken.setdefault(row.request.adapter, [])
            prompt = row.request.prompt
            # what a prompt adds: past the longest start it shares with one taken (shared prefill)
            cost = len(prompt) - max((len(os.path.commonprefix([prompt, p])) for p in mine),
                                     default=0)
            if now and spent + cost > budget:
                wait.append(row)  # the first row waiting leads the next step's
                continue
            now.append(row)
            mine.append(prompt)
            spent += cost
        return now, wait

    def _admit(self) -> tuple[list[_Row], list[_Row]]:
        """Prefill the queued rows, write their first token and join those that go on to the
        batch. Returns (rows done: unrun for want of budget, or finished at their first token;
        rows admitted). Rows with no budget finish at once, unrun. If the prefill fails (an
        adapter unloaded since ``add``, say), the rows stay queued and the running batch is
        untouched."""
        queued = self._pending
        done = [row for row in queued if row.request.max_new_tokens <= 0]
        rows, wait = self._within_budget([row for row in queued if row.request.max_new_tokens > 0])
        self.started = []
        if not rows:
            self._pending = []
            return done, []
        engine, dev = self.engine, self.engine.device
        reqs = [row.request for row in rows]
        pre = engine._prefill(reqs, self.system)  # routes the new rows' adapters
        self._routed = None
        steps = max(r.max_new_tokens for r in reqs)
        draws = []
        for r in reqs:
            gen = None
            if r.seed is not None:
                gen = torch.Generator()
                gen.manual_seed(r.seed)
            draws.append(_right_pad(torch.rand(r.max_new_tokens, generator=gen), steps))
        new = _Batch(
            cache=pre.cache, mask=pre.mask, positions=pre.positions,
            next=torch.zeros(len(reqs), dtype=torch.long, device=dev),
            history=torch.zeros(len(reqs), steps, dtype=torch.long, device=dev),
            uniforms=torch.stack(draws).to(dev),
            produced=torch.zeros(len(reqs), dtype=torch.long, device=dev),
            temperature=torch.tensor([r.temperature for r in reqs], device=dev),
            top_p=torch.tensor([r.top_p for r in reqs], device=dev),
            penalty=torch.tensor([r.repetition_penalty for r in reqs], device=dev),
            no_stop=torch.tensor([r.ignore_eos for r in reqs], device=dev))
        self._pending = wait
        self.started = [row.request.key for row in rows]
        finished, staying = self._draw(new, rows, pre.logits)
        if staying:
            if self._batch is None:
                self._batch = new
            else:
                self._batch.join(new)
            self._rows += staying
        return done + finished, rows


@functools.lru_cache(maxsize=1)
def get_engine(model_path: str | None = None) -> Engine:
    """The worker's engine, loaded on first use and kept for the life of the process.
    ``model_path``: another model folder with the same tone adapters (the quality eval compares
    the base with the task-tuned model this way).

    The tone adapters stacked are those trained on the configured base (``model.base_id``); a
    tone without one is asked for in the prompt instead (``generation.runner.adapter_for``)."""
    started = time.monotonic()
    torch.set_num_threads(config.current.torch_threads or os.cpu_count() or 1)
    from copywriter.ml.model import (
        INT8_LM_HEAD,
        base_id,
        int8_wanted,
        quantize_int8,
        serving_model_path,
    )

    # COPYWRITER_MODEL_PATH, else the base with the task adapter merged in (made if missing or
    # stale), else the base.
    engine = Engine(model_path or serving_model_path())

    if int8_wanted(config.current.int8, engine.device):
        quantize_int8(engine.model, lm_head=INT8_LM_HEAD)  # LoRA stays fp32 (docs/int8.md)
    from copywriter.ml.paths import TASK_ADAPTER, adapter_base, base_adapters_dir

    # "name.tmp" folders are adapters being written by a training run right now; the task
    # adapter is in the weights already (merged), never stacked.
    base = base_id()
    found = {p.name: p for p in sorted(base_adapters_dir(base).glob("*"))
             if "." not in p.name and p.name != TASK_ADAPTER
             and (p / "adapter_model.safetensors").exists()}
    shipped = {name: p for name, p in found.items() if adapter_base(p) == base}
    for name in sorted(set(found) - set(shipped)):
        log.warning("adapter %s was trained on the base %r, not on %r: not loaded",
                    found[name], adapter_base(found[name]), base)
    if shipped:
        engine.set_adapters(shipped)
    log.info("engine ready on %s in %.1fs, base %s, with adapters %s", engine.device,
             time.monotonic() - started, base, sorted(shipped))
    return engine
