"""Prefilling a slot job's rows: the shared prompt start once per group, against every row whole.

One Google search ad request (3 variants; every headline and description is its own row, each
prompt repeating the brief) is prefilled through ``Engine._prefill`` with stem sharing on and off,
taking turns in this one process, real model and tone adapter. Prints the median time of each and
the ratio (off / on: how many times faster sharing is), and the tokens each fed the model.

    .venv/bin/python bench/prefill.py [--variants 3] [--repeat 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

FIELDS = {"product": "Fernway hiking boots", "audience": "weekend hikers",
          "benefits": "Waterproof leather, 2-year warranty, free returns within 60 days",
          "keyword": "waterproof hiking boots"}


def item_requests(variants: int, adapter: str) -> list:
    from copywriter.catalog.schema import load_file
    from copywriter.ml.engine import SeqRequest
    from copywriter.pipeline.slots import brief_block, item_prompt, items_for, sample_items

    spec = load_file(ROOT / "templates_lib" / "ads" / "google-search-ad.yaml")
    data = spec.raw
    slots = data["output"]["slots"]
    fields = {f["name"]: FIELDS.get(f["name"], "") for f in data["fields"]}
    brief = brief_block(data["fields"], fields)
    examples = sample_items(data, slots)
    return [SeqRequest(prompt=item_prompt(item, template_title=spec.title, brief=brief,
                                          fields=fields, examples=examples),
                       adapter=adapter, max_new_tokens=20, seed=v * 100 + item.number,
                       key=(v, item.number))
            for v in range(variants) for item in items_for(slots, fields)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--adapter", default="friendly")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from copywriter.ml.engine import SYSTEM_PROMPT, get_engine

    engine = get_engine()
    adapter = args.adapter if args.adapter in engine.stack.names else "base"
    reqs = item_requests(args.variants, adapter)
    fed: dict[bool, int] = {}
    forward = engine._forward

    def counting(input_ids, *a, **k):
        fed[engine.share_prefill] = fed.get(engine.share_prefill, 0) + int(input_ids.numel())
        return forward(input_ids, *a, **k)

    engine._forward = counting
    times: dict[bool, list[float]] = {True: [], False: []}
    with torch.inference_mode():
        engine._prefill(reqs[:2], SYSTEM_PROMPT)  # warm-up (and the prefix states)
        for _ in range(args.repeat):
            for share in (False, True):
                engine.share_prefill = share
                fed[share] = 0
                started = time.perf_counter()
                engine._prefill(reqs, SYSTEM_PROMPT)
                times[share].append(time.perf_counter() - started)
    off, on = statistics.median(times[False]), statistics.median(times[True])
    print(f"{len(reqs)} rows ({args.variants} variants of a Google search ad, adapter {adapter}), "
          f"{args.threads} torch threads, load average {os.getloadavg()[0]:.2f}")
    print(f"every row whole:        {off:6.2f} s  ({fed[False]} token places fed)")
    print(f"shared starts once:     {on:6.2f} s  ({fed[True]} token places fed)")
    print(f"sharing is {off / on:.1f}x faster")


if __name__ == "__main__":
    main()
