"""Stacked multi-adapter LoRA for serving: one batch, a different tone per row.

Every target ``nn.Linear`` keeps the A and B matrices of all loaded adapters stacked along a new
first axis (index 0 is the base model: zero weights). In a mixed batch the rows are grouped by
adapter: the routing lays the rows out as ``k`` groups of ``G`` (the largest group; shorter
groups are padded with a copy of some row whose result is never read), so each layer does one
gather of its input rows, two batched matmuls against the ``k`` adapters' stacked A and B, and
one gather back: ``bmm(bmm(x[groups], A[present]), B[present])[position of each row]``. That is
one adapter's work per row plus the padding, for decode steps and the prompt's prefill alike.
Earlier forms, kept in bench/lora_layer.py for comparison (the README has what each costs): a
per-row gather of A/B, and the adapters' A/B concatenated with a per-row mask, which multiplies
every row by every adapter. Adapters come from peft's saved files.
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
    the rows form ``len(present)`` groups of ``group`` slots: ``gather`` (groups * group,) names
    the row in each slot (padding slots repeat a row of their group), ``scatter`` (batch,) the
    slot of each row. The base slot 0 is a group like the others (its weights are zeros).
    ``version`` changes with ``present`` so layers restack their adapters only then.
    """

    single: int | None = 0
    index: torch.Tensor | None = None  # (batch,) adapter slot of each row
    present: list[int] = field(default_factory=list)
    group: int = 0
    gather: torch.Tensor | None = None
    scatter: torch.Tensor | None = None
    version: int = 0
    names: list[str] = field(default_factory=lambda: [BASE])


class MultiLoRALinear(nn.Module):
    def __init__(self, base: nn.Module, routing: AdapterRouting):
        super().__init__()
        # ``base`` is an nn.Linear or, after ``model.quantize_int8``, an int8 dynamic Linear
        # (whose ``weight`` is a method): A and B take their dtype from the activations' float
        # type and never from the base weights, so the LoRA stays in full precision either way.
        dtype, device, features_in, features_out = _float_layout(base)
        self.base = base
        self.routing = routing
        self.A: torch.Tensor
        self.B: torch.Tensor
        self.register_buffer("A", torch.zeros(1, features_in, 1, dtype=dtype, device=device),
                             persistent=False)
        self.register_buffer("B", torch.zeros(1, 1, features_out, dtype=dtype, device=device),
                             persistent=False)

        self._present: tuple[int, torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.base(x)
        r = self.routing
        if r.single is not None:
            if r.single == 0:
                return y
            return y + (x @ self.A[r.single]) @ self.B[r.single]
        assert r.gather is not None and r.scatter is not None
        if self._present is None or self._present[0] != r.version:
            # (k, in, rank) and (k, rank, out) for the k adapters in this batch; scale is in B.
            self._present = (r.version, self.A[r.present].contiguous(),
                             self.B[r.present].contiguous())
        _, A, B = self._present
        tokens = x.shape[1]
        grouped = x.index_select(0, r.gather).reshape(len(r.present), r.group * tokens, -1)
        delta = torch.bmm(torch.bmm(grouped, A), B)
        return y + delta.reshape(len(r.present) * r.group, tokens, -1).index_select(0, r.scatter)


def _is_int8_linear(module: nn.Module) -> bool:
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    return isinstance(module, DynamicLinear)


def _float_layout(base: nn.Module) -> tuple[torch.dtype, torch.device, int, int]:
    """(dtype, device, in_features, out_features) of the float activations around ``base``."""
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    if isinstance(base, DynamicLinear):  # int8 runs on the CPU with fp32 activations only
        return torch.float32, torch.device("cpu"), base.in_features, base.out_features
    assert isinstance(base, nn.Linear)
    return base.weight.dtype, base.weight.device, base.in_features, base.out_features


def group_rows(rows: list[int]) -> tuple[list[int], list[int], list[int], int]:
    """Lay out rows (each an adapter slot) as groups by slot, padded to the largest group:
    (slots present, row of each group slot, group slot of each row, group size)."""
    present = sorted(set(rows))
    members = [[row for row, slot in enumerate(rows) if slot == p] for p in present]
    group = max(len(m) for m in members)
    gather: list[int] = []
    scatter = [0] * len(rows)
    for m in members:
        for offset, row in enumerate(m):
            scatter[row] = len(gather) + offset
        gather += m + [m[0]] * (group - len(m))
    return present, gather, scatter, group


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
                if child_name in TARGETS and (isinstance(child, nn.Linear)
                                              or _is_int8_linear(child)):
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
            w = layer.A  # the float dtype/device chosen at wrapping (the base may be int8)
            A = torch.zeros(len(names), layer.A.shape[1], max_rank, dtype=w.dtype,
                            device=w.device)
            B = torch.zeros(len(names), max_rank, layer.B.shape[2], dtype=w.dtype,
                            device=w.device)
            for i, adapter in enumerate(adapters, start=1):
                pair = adapter.tensors.get(path)
                if pair is None:
                    continue
                a, b = pair
                A[i, :, : a.shape[1]] = a.to(w.dtype)
                B[i, : b.shape[0], :] = (b * adapter.scale).to(w.dtype)
            layer.A, layer.B = A, B
            layer._present = None
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
        if len(set(rows)) == 1:
            r.single, r.index, r.gather, r.scatter = rows[0], None, None, None
            return
        present, gather, scatter, group = group_rows(rows)
        device = next(self.model.parameters()).device
        r.single, r.group = None, group
        r.index = torch.tensor(rows, dtype=torch.long, device=device)
        r.gather = torch.tensor(gather, dtype=torch.long, device=device)
        r.scatter = torch.tensor(scatter, dtype=torch.long, device=device)
        if present != r.present:  # layers restack their adapters only when the set changes
            r.present, r.version = present, r.version + 1
