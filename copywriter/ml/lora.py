"""Stacked multi-adapter LoRA for serving: one batch, a different tone per row.

Every target ``nn.Linear`` gets the A and B matrices of all loaded adapters stacked along a new
first axis. A forward pass takes a per-row adapter index and adds ``x @ A[i] @ B[i] * scale[i]``
with two batched matmuls, so a batch mixing eight tones costs about what a single-tone batch
costs. Index 0 is the base model (zero weights). Adapters come from peft's saved files.
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
    """Per-forward routing shared by every wrapped layer: which adapter each batch row uses."""

    index: torch.Tensor | None = None  # (batch,) long, or None for "all rows base"
    single: int | None = None  # set when every row uses the same adapter
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.base(x)
        r = self.routing
        if r.single is not None:
            if r.single == 0:
                return y
            return y + (x @ self.A[r.single]) @ self.B[r.single]
        if r.index is None:
            return y
        # (batch, in, r) and (batch, r, out) gathered per row; scale is folded into B.
        return y + torch.bmm(torch.bmm(x, self.A[r.index]), self.B[r.index])


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
        self.routing.names = names

    def route(self, adapter_names: list[str]) -> None:
        """Set the adapter of every row for the next forward passes (unknown name: KeyError)."""
        lookup = {n: i for i, n in enumerate(self.routing.names)}
        idx = [lookup[n] for n in adapter_names]
        if len(set(idx)) == 1:
            self.routing.single, self.routing.index = idx[0], None
        else:
            self.routing.single = None
            self.routing.index = torch.tensor(idx, dtype=torch.long,
                                              device=next(self.model.parameters()).device)

    def select_rows(self, keep: torch.Tensor) -> None:
        """Follow a batch compaction (rows dropped from the KV cache)."""
        if self.routing.index is not None:
            self.routing.index = self.routing.index[keep]
            if bool((self.routing.index == self.routing.index[0]).all()):
                self.routing.single, self.routing.index = int(self.routing.index[0]), None
