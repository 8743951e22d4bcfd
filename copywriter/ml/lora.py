"""Stacked multi-adapter LoRA for serving: one batch, a different tone per row.

Every target ``nn.Linear`` keeps the A and B matrices of all loaded adapters stacked along a new
first axis (index 0 is the base model: zero weights). In a mixed batch, decode steps (one token
per row) use the A matrices of the adapters present concatenated side by side, ``A_cat (in,
k*r)`` and ``B_cat (k*r, out)``, built once per batch: ``((x @ A_cat) * mask) @ B_cat`` where the
per-row mask keeps only that row's block. Two dense matmuls replace a per-row gather of weights
that copied every row's A and B on every step (3x the base layer at batch 32, against 1.5x for
this form: bench/lora_layer.py). The prompt's prefill, many tokens per row, keeps the gather
form, whose cost is spread over the row's tokens. Adapters come from peft's saved files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
BASE = "__base__"


@dataclass
class AdapterRouting:
    """Per-forward routing shared by every wrapped layer: which adapter each batch row uses.

    ``single`` is set when every row uses the same adapter (0 = base, nothing added). Otherwise
    ``present`` lists the adapter slots in the batch and ``mask`` (batch, 1, len(present) * rank)
    selects each row's block of the concatenated A/B; ``version`` tells layers to rebuild theirs.
    """

    single: int | None = 0
    index: torch.Tensor | None = None  # (batch,) adapter slot of each row
    present: list[int] = field(default_factory=list)
    mask: torch.Tensor | None = None
    version: int = 0
    names: list[str] = field(default_factory=lambda: [BASE])


class MultiLoRALinear(nn.Module):
    def __init__(self, base: nn.Linear, routing: AdapterRouting):
        super().__init__()
        self.base = base
        self.routing = routing
        self.A: torch.Tensor
        self.B: torch.Tensor
        self.register_buffer("A", torch.zeros(1, base.in_features, 1, dtype=base.weight.dtype,
                                              device=base.weight.device), persistent=False)
        self.register_buffer("B", torch.zeros(1, 1, base.out_features, dtype=base.weight.dtype,
                                              device=base.weight.device), persistent=False)

        self._cat: tuple[int, torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.base(x)
        r = self.routing
        if r.single is not None:
            if r.single == 0:
                return y
            return y + (x @ self.A[r.single]) @ self.B[r.single]
        assert r.index is not None and r.mask is not None
        if x.shape[-2] > 1:
            # Prefill: many tokens per row, so gathering each row's A/B once is the cheap form
            # (the concatenated one would multiply every token by all k adapters' A).
            return y + torch.bmm(torch.bmm(x, self.A[r.index]), self.B[r.index])
        if self._cat is None or self._cat[0] != r.version:
            # (in, k*rank) and (k*rank, out) for the k adapters in this batch; scale is in B.
            A_cat = self.A[r.present].permute(1, 0, 2).reshape(self.A.shape[1], -1).contiguous()
            B_cat = self.B[r.present].reshape(-1, self.B.shape[2]).contiguous()
            self._cat = (r.version, A_cat, B_cat)
        _, A_cat, B_cat = self._cat
        return y + ((x @ A_cat) * r.mask) @ B_cat


@dataclass
class AdapterWeights:
    name: str
    rank: int
    scale: float
    tensors: dict[str, tuple[torch.Tensor, torch.Tensor]]  # module path -> (A (in,r), B (r,out))


def read_peft_adapter(path: Path, name: str | None = None) -> AdapterWeights:
    """Read a peft LoRA folder (adapter_config.json + adapter_model.safetensors)."""
    config = json.loads((path / "adapter_config.json").read_text())
    rank = int(config["r"])
    alpha = float(config.get("lora_alpha", rank))
    scale = alpha / (rank**0.5) if config.get("use_rslora") else alpha / rank
    raw = load_file(str(path / "adapter_model.safetensors"))
    pairs: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in raw.items():
        # base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight
        for part in ("lora_A", "lora_B"):
            marker = f".{part}."
            if marker in key:
                module = key.split(marker)[0].removeprefix("base_model.model.")
                pairs.setdefault(module, {})[part] = tensor
    tensors = {m: (p["lora_A"].T.contiguous(), p["lora_B"].T.contiguous())
               for m, p in pairs.items() if "lora_A" in p and "lora_B" in p}
    if not tensors:
        raise ValueError(f"{path} holds no LoRA weights")
    return AdapterWeights(name=name or path.name, rank=rank, scale=scale, tensors=tensors)


class StackedAdapters:
    """Wraps a causal LM's target linears once; adapters can then be (re)stacked at will."""

    def __init__(self, model: nn.Module):
        self.model = model
        self.routing = AdapterRouting()
        self.layers: dict[str, MultiLoRALinear] = {}
        for name, module in list(model.named_modules()):
            for child_name, child in list(module.named_children()):
                if child_name in TARGETS and isinstance(child, nn.Linear):
                    wrapped = MultiLoRALinear(child, self.routing)
                    setattr(module, child_name, wrapped)
                    self.layers[f"{name}.{child_name}" if name else child_name] = wrapped
        self.adapters: dict[str, AdapterWeights] = {}

    @property
    def names(self) -> list[str]:
        return self.routing.names

    def load(self, adapters: list[AdapterWeights]) -> None:
        """Stack ``adapters`` (replacing what was loaded) after the base slot 0."""
        self.adapters = {a.name: a for a in adapters}
        names = [BASE] + [a.name for a in adapters]
        max_rank = max([a.rank for a in adapters] + [1])
        for path, layer in self.layers.items():
            w = layer.base.weight
            A = torch.zeros(len(names), layer.base.in_features, max_rank, dtype=w.dtype,
                            device=w.device)
            B = torch.zeros(len(names), max_rank, layer.base.out_features, dtype=w.dtype,
                            device=w.device)
            for i, adapter in enumerate(adapters, start=1):
                pair = adapter.tensors.get(path)
                if pair is None:
                    continue
                a, b = pair
                A[i, :, : a.shape[1]] = a.to(w.dtype)
                B[i, : b.shape[0], :] = (b * adapter.scale).to(w.dtype)
            layer.A, layer.B = A, B
            layer._cat = None
        self.routing.names = names
        self.routing.single, self.routing.version = 0, self.routing.version + 1

    def route(self, adapter_names: list[str]) -> None:
        """Set the adapter of every row for the next forward passes (unknown name: KeyError)."""
        lookup = {n: i for i, n in enumerate(self.routing.names)}
        self._set_rows([lookup[n] for n in adapter_names])

    def select_rows(self, keep: torch.Tensor) -> None:
        """Follow a batch compaction (rows dropped from the KV cache)."""
        index = self.routing.index
        if self.routing.single is None and index is not None:
            self._set_rows(index[keep].tolist())

    def _set_rows(self, rows: list[int]) -> None:
        r = self.routing
        present = sorted(set(rows) - {0})
        if len(set(rows)) == 1:
            r.single, r.mask, r.index = rows[0], None, None
            return
        rank = next(iter(self.layers.values())).A.shape[2] if self.layers else 1
        weight = next(self.model.parameters())
        mask = torch.zeros(len(rows), len(present), rank, dtype=weight.dtype, device=weight.device)
        for row, slot in enumerate(rows):
            if slot:
                mask[row, present.index(slot)] = 1
        r.single, r.mask = None, mask.reshape(len(rows), 1, -1)
        r.index = torch.tensor(rows, dtype=torch.long, device=weight.device)
        if present != r.present:  # layers rebuild their concatenation only when the set changes
            r.present, r.version = present, r.version + 1
