"""Generation throughput: sequential per-request vs the worker's batched mixed-tone generation.

All in one process on the same machine, each row writing exactly the same number of tokens
(end-of-text disabled) so every configuration does the same work:
  - sequential: one request at a time, switching the adapter between requests (batch 1)
  - mixed-tone batches of 8 and 32 (a different tone per row, stacked LoRA)
  - single-tone batches of 8 and 32 (the same adapter on every row)
Rows write 120 tokens by default: the product's shortest length setting ("short"); with fewer
tokens the prompt's prefill, which batching cannot shrink, dominates (see --tokens 48).
Run: .venv/bin/python bench/generation.py [--tokens 120] [--model PATH] [--device cuda]
With --random-adapters the adapters are random LoRA weights of the real shape (speed does not
depend on weight values): that is how the GPU figures were taken where the weights cannot travel.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from copywriter.ml.engine import Engine, SeqRequest

TONES = ["professional", "friendly", "witty", "persuasive", "luxurious", "bold", "empathetic",
         "informative"]


def random_adapters(model, root: Path, rank: int = 16) -> dict[str, Path]:
    import torch
    from peft import LoraConfig, get_peft_model

    out = {}
    for i, tone in enumerate(TONES):
        torch.manual_seed(i)
        cfg = LoraConfig(r=rank, lora_alpha=2 * rank, init_lora_weights=False, task_type="CAUSAL_LM",
                         target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                         "up_proj", "down_proj"])
        peft_model = get_peft_model(model, cfg)
        peft_model.save_pretrained(root / tone)
        model = peft_model.unload()
        out[tone] = root / tone
    return out


def load_briefs() -> list[str]:
    """The tone corpus's instructions (one per brief), the prompts every generation bench uses."""
    from copywriter.ml.tonedata import load_corpus

    return [e.instruction for e in load_corpus() if e.tone == "professional"]


def build_engine(*, model: str | None = None, device: str | None = None,
                 random_weights: bool = False, int8: bool = False) -> Engine:
    """The worker's engine with the eight tone adapters stacked (trained, or random of the same
    shape with ``random_weights``); ``int8``: int8 base weights, as COPYWRITER_INT8=1 does."""
    import tempfile

    import torch

    from copywriter.ml.engine import Engine
    from copywriter.ml.paths import adapters_dir

    if device is None or device == "cpu":
        torch.set_num_threads(max(1, torch.get_num_threads()))
    if random_weights:
        from copywriter.ml.model import load_base_model

        paths = random_adapters(load_base_model(model, device="cpu"), Path(tempfile.mkdtemp()))
    else:
        paths = {t: adapters_dir() / t for t in TONES}
    engine = Engine(model, device=device)
    if int8:
        from copywriter.ml.model import INT8_LM_HEAD, quantize_int8

        quantize_int8(engine.model, lm_head=INT8_LM_HEAD)
    engine.set_adapters(paths)
    return engine


def make_requests(briefs: list[str], n: int, *, tokens: int, adapters: list[str]
                  ) -> list[SeqRequest]:
    """``n`` rows cycling through ``briefs`` and ``adapters``, each writing exactly ``tokens``."""
    from copywriter.ml.engine import SeqRequest

    return [SeqRequest(prompt=briefs[i % len(briefs)], adapter=adapters[i % len(adapters)],
                       max_new_tokens=tokens, ignore_eos=True, seed=i, key=i)
            for i in range(n)]


def tokens_per_second(engine: Engine, reqs: list[SeqRequest], batch: int, *, runs: int = 2
                      ) -> float:
    """Generated tokens per second over all of ``reqs`` in batches of ``batch``, the best of
    ``runs`` (the machine is shared and noisy)."""
    import torch

    best = []
    for _ in range(runs):
        start = time.perf_counter()
        tokens = 0
        for i in range(0, len(reqs), batch):
            tokens += sum(r.tokens for r in engine.generate(reqs[i:i + batch]))
        if engine.device.startswith("cuda"):
            torch.cuda.synchronize()
        best.append(tokens / (time.perf_counter() - start))
    return max(best)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=120)
    parser.add_argument("--model", default=None, help="model folder (default: the safetensors cache)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--random-adapters", action="store_true")
    parser.add_argument("--sizes", default="8,32")
    parser.add_argument("--sequential", type=int, default=8, help="requests timed one by one")
    parser.add_argument("--json", default=None)
    parser.add_argument("--int8", action="store_true",
                        help="int8 base weights on the CPU (bench/int8.py: fp32 vs int8 in one run)")
    args = parser.parse_args()

    engine = build_engine(model=args.model, device=args.device,
                          random_weights=args.random_adapters, int8=args.int8)
    briefs = load_briefs()
    sizes = [int(s) for s in args.sizes.split(",")]

    def requests(n: int, mixed: bool) -> list[SeqRequest]:
        return make_requests(briefs, n, tokens=args.tokens, adapters=TONES if mixed else TONES[:1])

    def tps(reqs: list[SeqRequest], batch: int) -> float:
        return tokens_per_second(engine, reqs, batch)

    engine.generate(requests(2, True))  # warm-up
    results = {"device": engine.device, "dtype": str(engine.model.dtype), "tokens": args.tokens,
               "random_adapters": args.random_adapters, "int8": args.int8}
    seq = tps(requests(args.sequential, True), 1)
    results["sequential"] = seq
    print(f"device {engine.device} ({engine.model.dtype}), {args.tokens} new tokens per row")
    print(f"sequential, batch 1, switching adapters: {seq:8.1f} tokens/s")
    for n in sizes:
        mixed = tps(requests(n, True), n)
        single = tps(requests(n, False), n)
        results[f"mixed_{n}"], results[f"single_{n}"] = mixed, single
        print(f"batch {n:3d}: mixed-tone {mixed:8.1f} tokens/s ({mixed / seq:5.1f}x sequential), "
              f"single-tone {single:8.1f} tokens/s; mixed/single {mixed / single:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in results.items()}))


if __name__ == "__main__":
    main()
