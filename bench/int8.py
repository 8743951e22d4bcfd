"""int8 base weights against fp32 on the CPU (issue 16), all in one process.

Three engines on the real model with the eight trained tone adapters (fp32 LoRA in every case):
  fp32       the worker's default on the CPU
  int8       every decoder Linear int8 (per-channel weights, dynamic activations); lm_head fp32
  int8+head  the same plus an int8 copy of the tied lm_head (embeddings stay fp32)
For batch 1 and mixed-tone batches (--sizes) each configuration writes the same rows, exactly
--tokens tokens each; the order of the configurations rotates between sizes so that a load
change on this shared machine does not always hit the same one. Then:
  - the b=1 bound: weight bytes read per token, the machine's read bandwidth (a sum over 512 MB),
    their quotient as the memory-bound ceiling, and the share of a b=1 step spent in matmuls
    (torch.profiler), to say what actually bounds b=1 here;
  - greedy agreement: per prompt, how many tokens int8 writes before it departs from fp32;
  - logits error on the prompts' positions: relative L2 and top-1 agreement.
Run: .venv/bin/python bench/int8.py [--tokens 64] [--sizes 1,8,32] [--json docs/int8_bench.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TONES = ["professional", "friendly", "witty", "persuasive", "luxurious", "bold", "empathetic",
         "informative"]
CONFIGS = ["fp32", "int8", "int8+head"]
MATMUL_OPS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul", "quantized::linear_dynamic")


def weight_bytes(model: Any) -> tuple[int, int]:
    """(bytes of the matmul weights one decode step reads, of which lm_head)."""
    from torch import nn
    from torch.ao.nn.quantized.dynamic import Linear as Int8Linear

    total = head = 0
    for name, module in model.named_modules():
        if isinstance(module, Int8Linear):
            w = module.weight()
            size = w.numel() + w.q_per_channel_scales().numel() * 8
        elif type(module) is nn.Linear:
            size = module.weight.numel() * module.weight.element_size()
        else:
            continue
        total += size
        if name == "lm_head":
            head = size
    return total, head


def read_bandwidth() -> float:
    """Bytes per second for summing a 512 MB fp32 tensor (best of 5): what streaming the weights
    once per token can at most go at on this machine with torch's threads."""
    import torch

    buf = torch.ones(128 * 1024 * 1024)
    best = 0.0
    for _ in range(5):
        start = time.perf_counter()
        buf.sum()
        best = max(best, buf.numel() * 4 / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--sizes", default="1,8,32")
    parser.add_argument("--b1-requests", type=int, default=2, help="rows timed one by one at b=1")
    parser.add_argument("--greedy", type=int, default=4, help="prompts for the greedy comparison")
    parser.add_argument("--greedy-tokens", type=int, default=80)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import torch

    from copywriter.ml.engine import Engine, SeqRequest
    from copywriter.ml.lora import BASE
    from copywriter.ml.model import quantize_int8
    from copywriter.ml.paths import adapters_dir
    from copywriter.ml.tonedata import load_corpus

    paths = {t: adapters_dir() / t for t in TONES}
    engines: dict[str, Engine] = {}
    for config in CONFIGS:
        engine = Engine(None, device="cpu")
        started = time.perf_counter()
        if config != "fp32":
            quantize_int8(engine.model, lm_head=config == "int8+head")
            print(f"{config}: quantized in {time.perf_counter() - started:.1f}s", flush=True)
        engine.set_adapters(paths)
        engines[config] = engine
    briefs = [e.instruction for e in load_corpus() if e.tone == "professional"]

    def rows(n: int, tokens: int, *, greedy: bool = False) -> list[SeqRequest]:
        return [SeqRequest(prompt=briefs[i % len(briefs)], adapter=TONES[i % len(TONES)],
                           max_new_tokens=tokens, ignore_eos=not greedy, seed=i, key=i,
                           temperature=0.0 if greedy else 0.7)
                for i in range(n)]

    for engine in engines.values():
        engine.generate(rows(2, 4))  # warm-up: prefix K/V per adapter, allocator, kernels

    results: dict[str, Any] = {"tokens": args.tokens, "threads": torch.get_num_threads(),
                               "throughput": {}}
    print(f"{args.tokens} new tokens per row, {torch.get_num_threads()} torch threads")
    for k, size in enumerate(int(s) for s in args.sizes.split(",")):
        n = args.b1_requests if size == 1 else size
        order = CONFIGS[k % 3:] + CONFIGS[:k % 3]
        tps: dict[str, float] = {}
        for config in order:
            reqs = rows(n, args.tokens)
            start = time.perf_counter()
            done = sum(r.tokens for i in range(0, n, size)
                       for r in engines[config].generate(reqs[i:i + size]))
            tps[config] = done / (time.perf_counter() - start)
        results["throughput"][f"b{size}"] = tps
        print(f"batch {size:3d} (mixed tones): " + ", ".join(
            f"{c} {tps[c]:6.1f} tok/s ({tps[c] / tps['fp32']:.2f}x)" for c in CONFIGS), flush=True)

    # -- the b=1 bound ------------------------------------------------------------------------
    bandwidth = read_bandwidth()
    results["read_bandwidth_gb_s"] = bandwidth / 1e9
    print(f"read bandwidth (sum over 512 MB): {bandwidth / 1e9:.1f} GB/s")
    for config, engine in engines.items():
        total, head = weight_bytes(engine.model)
        ceiling = bandwidth / total
        from torch.profiler import ProfilerActivity, profile

        req = rows(1, 16)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            start = time.perf_counter()
            engine.generate(req)
            wall = time.perf_counter() - start
        matmul = sum(e.self_cpu_time_total for e in prof.key_averages()
                     if e.key in MATMUL_OPS) / 1e6
        measured = results["throughput"].get("b1", {}).get(config)
        results[f"bound_{config}"] = {"weight_mb_per_token": total / 1e6,
                                      "lm_head_mb": head / 1e6,
                                      "memory_bound_tok_s": ceiling,
                                      "measured_b1_tok_s": measured,
                                      "matmul_share_of_b1": matmul / wall}
        print(f"{config:9s}: {total / 1e6:6.1f} MB of weights per token (lm_head "
              f"{head / 1e6:5.1f}) -> memory-bound ceiling {ceiling:6.1f} tok/s; measured b=1 "
              f"{measured or float('nan'):5.1f}; matmuls are {matmul / wall:.0%} of a b=1 run "
              f"(profiled, 16 tokens incl. prefill)", flush=True)

    # -- quality: greedy agreement and logits error -------------------------------------------
    greedy = rows(args.greedy, args.greedy_tokens, greedy=True)
    reference = [engines["fp32"].generate([r])[0].token_ids for r in greedy]
    for config in CONFIGS[1:]:
        same = []
        for r, ref in zip(greedy, reference, strict=True):
            got = engines[config].generate([r])[0].token_ids
            prefix = next((i for i, (a, b) in enumerate(zip(ref, got, strict=False)) if a != b),
                          min(len(ref), len(got)))
            same.append(prefix)
        results[f"greedy_same_tokens_{config}"] = same
        print(f"{config:9s}: greedy tokens equal to fp32 before the first difference, per prompt "
              f"(of {args.greedy_tokens}): {same}", flush=True)
    tok = engines["fp32"].tokenizer
    enc = tok(briefs[:8], return_tensors="pt", padding=True)
    valid = enc["attention_mask"].bool()
    logits = {}
    for config, engine in engines.items():
        names = TONES[:4] + [BASE] * 4
        engine.stack.route(names)
        with torch.inference_mode():
            logits[config] = engine.model(**enc).logits[valid].float()
        engine.stack.route([BASE] * 8)
        with torch.inference_mode():
            logits[config + "/base"] = engine.model(**enc).logits[valid].float()
    ref = logits["fp32"]
    adapted = valid.clone()
    adapted[4:] = False  # rows 0-3 carry an adapter
    adapted = adapted[valid]
    effect = float((ref[adapted] - logits["fp32/base"][adapted]).norm() / ref[adapted].norm())
    for config in CONFIGS[1:]:
        err = float((logits[config] - ref).norm() / ref.norm())
        top1 = float((logits[config].argmax(-1) == ref.argmax(-1)).float().mean())
        results[f"logits_{config}"] = {"relative_l2": err, "top1_agreement": top1}
        print(f"{config:9s}: logits relative L2 error {err:.3f} (the adapters' own effect on "
              f"these logits: {effect:.3f}), top-1 agreement {top1:.1%}")
    results["adapter_effect_relative_l2"] = effect
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
