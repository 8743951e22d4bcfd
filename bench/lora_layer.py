"""One decoder layer's seven projections at decode time (batch 32, one token per row), timed as:
the base linears alone, one adapter for the whole batch, and a mixed batch (8 adapters) done three
ways: a per-row gather of A/B with bmm (the first engine), the adapters' A/B concatenated with a
per-row mask (the second), and rows grouped by adapter with two batched matmuls, the form
copywriter/ml/lora.py uses now. Times are the best of several windows, one thread.
Run: .venv/bin/python bench/lora_layer.py [--batch 32] [--rank 16]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from copywriter.ml.lora import AdapterRouting, MultiLoRALinear, group_rows  # noqa: E402

# SmolLM2-135M: hidden 576, 3 KV heads of 64, MLP 1536; (in, out, count per layer)
PROJECTIONS = [(576, 576, 2), (576, 192, 2), (576, 1536, 2), (1536, 576, 1)]


def best_us(f, n: int = 30, windows: int = 15) -> float:
    f()
    best = float("inf")
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(n):
            f()
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    return best


def layer_forms(linear, x, A, B, idx, A_cat, B_cat, mask) -> dict:
    # The grouped form is the engine's own layer, routed as the engine routes a mixed batch.
    present, gather, scatter, group = group_rows(idx.tolist())
    routing = AdapterRouting(single=None, index=idx, present=present, group=group,
                             gather=torch.tensor(gather), scatter=torch.tensor(scatter), version=1)
    layer = MultiLoRALinear(linear, routing)
    layer.A, layer.B = A, B
    return {
        "base": lambda: linear(x),
        "single adapter": lambda: linear(x) + (x @ A[3]) @ B[3],
        "mixed, per-row gather": lambda: linear(x) + torch.bmm(torch.bmm(x, A[idx]), B[idx]),
        "mixed, concatenated": lambda: linear(x) + ((x @ A_cat) * mask) @ B_cat,
        "mixed, grouped": lambda: layer(x),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--adapters", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    b, r, k = args.batch, args.rank, args.adapters
    totals: dict[str, float] = {}
    for fan_in, fan_out, count in PROJECTIONS:
        linear = torch.nn.Linear(fan_in, fan_out, bias=False)
        A = torch.randn(k + 1, fan_in, r) * 0.01
        B = torch.randn(k + 1, r, fan_out) * 0.01
        idx = torch.arange(b) % k + 1
        x = torch.randn(b, 1, fan_in)
        present = list(range(1, k + 1))
        A_cat = A[present].permute(1, 0, 2).reshape(fan_in, -1).contiguous()
        B_cat = B[present].reshape(-1, fan_out).contiguous()
        mask = torch.zeros(b, k, r)
        mask[torch.arange(b), idx - 1] = 1
        mask = mask.reshape(b, 1, -1)
        forms = layer_forms(linear, x, A, B, idx, A_cat, B_cat, mask)
        with torch.inference_mode():
            gathered = forms["mixed, per-row gather"]()
            concatenated = forms["mixed, concatenated"]()
            assert torch.allclose(gathered, concatenated, atol=1e-5)
            assert torch.allclose(gathered, forms["mixed, grouped"](), atol=1e-5)
            for name, f in forms.items():
                totals[name] = totals.get(name, 0.0) + best_us(f) * count
    base = totals["base"]
    print(f"one decoder layer, batch {b}, rank {r}, {k} adapters, 1 thread")
    for name, us in totals.items():
        print(f"  {name:24s} {us:8.0f} us  {us / base:5.2f}x base")


if __name__ == "__main__":
    main()
