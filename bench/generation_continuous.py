"""Continuous (iteration-level) against static batching, and the engine's steady-state decode cost.

Everything in one process, on the same engine and machine, each row writing exactly its budget
(end-of-text disabled) so every configuration does the same work:

  - static: the worker's old policy: take up to ``--batch`` queued rows, decode them all to the
    end, then look at the queue again (rows that finish early leave, but nobody takes their slot);
  - continuous: at every step, queued rows fill the free slots of the running batch.

Rows have mixed budgets (``--lengths``, cycled: short rows next to long ones, as a team's
requests are) and mixed tones, and arrive all at once (a backlog) or ``--rate`` rows per second.
Reported per policy: tokens/s, and per row the latency (arrival to last token) and time to first
token, p50 and p95.

``--compare-engine FILE`` also times a plain ``generate`` batch on another version of
``copywriter/ml/engine.py`` (``git show REV:copywriter/ml/engine.py > /tmp/old_engine.py``)
against this one, alternating runs (the machine is shared and noisy): the cost of a steady-state
decode step, old against new.

Run: .venv/bin/python bench/generation_continuous.py [--rows 64] [--batch 32]
     [--lengths 24,60,120] [--rate 0] [--device cuda --random-adapters] [--compare-engine F]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generation import TONES, random_adapters  # noqa: E402


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_policy(engine: Any, requests: list[Any], arrivals: list[float], *, batch: int,
               continuous: bool) -> dict[str, float]:
    """Serve ``requests`` (arriving at ``arrivals`` seconds from the start) with one session,
    admitting queued rows at every step (continuous) or only when the batch is empty (static)."""
    import torch

    sync = torch.cuda.synchronize if engine.device.startswith("cuda") else (lambda: None)
    session = engine.session()
    queue = list(range(len(requests)))
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    tokens = 0
    start = time.perf_counter()
    while queue or session.live:
        now = time.perf_counter() - start
        arrived = [i for i in queue if arrivals[i] <= now]
        free = batch - session.live if continuous or not session.live else 0
        if free > 0 and arrived:
            take = arrived[:free]
            session.add([requests[i] for i in take])
            queue = queue[len(take):]  # rows arrive in order: those arrived lead the queue
        elif not session.live:
            time.sleep(max(0.0, min(arrivals[i] for i in queue) - now))
            continue
        done = session.step()
        sync()
        now = time.perf_counter() - start
        for key in session.started:
            first[key] = now
        for result in done:
            last[result.key] = now
            tokens += result.tokens
    wall = time.perf_counter() - start
    latency = [last[i] - arrivals[i] for i in range(len(requests))]
    ttft = [first[i] - arrivals[i] for i in range(len(requests))]
    return {"seconds": wall, "tokens_per_s": tokens / wall,
            "latency_p50": _percentile(latency, 0.5), "latency_p95": _percentile(latency, 0.95),
            "latency_mean": statistics.fmean(latency),
            "ttft_p50": _percentile(ttft, 0.5), "ttft_p95": _percentile(ttft, 0.95)}


def load_engine_module(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("compared_engine", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lengths", default="24,60,120", help="budgets, cycled over the rows")
    parser.add_argument("--rate", type=float, default=0.0, help="rows per second (0: a backlog)")
    parser.add_argument("--model", default=None)
    parser.add_argument("--device", default=None)
    parser.add_argument("--random-adapters", action="store_true")
    parser.add_argument("--compare-engine", default=None, help="another engine.py to time")
    parser.add_argument("--steady-tokens", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import tempfile

    import torch

    from copywriter.ml import engine as current
    from copywriter.ml.model import load_base_model
    from copywriter.ml.paths import adapters_dir
    from copywriter.ml.tonedata import load_corpus

    if args.random_adapters:
        paths = random_adapters(load_base_model(args.model, device="cpu"), Path(tempfile.mkdtemp()))
    else:
        paths = {t: adapters_dir() / t for t in TONES}
    briefs = [e.instruction for e in load_corpus() if e.tone == "professional"]
    lengths = [int(n) for n in args.lengths.split(",")]

    def requests(module: Any, n: int, budgets: list[int]) -> list[Any]:
        return [module.SeqRequest(prompt=briefs[i % len(briefs)], adapter=TONES[i % len(TONES)],
                                  max_new_tokens=budgets[i % len(budgets)], ignore_eos=True,
                                  seed=i, key=i) for i in range(n)]

    engine = current.Engine(args.model, device=args.device)
    engine.set_adapters(paths)
    engine.generate(requests(current, 2, [4]))  # warm-up
    results: dict[str, Any] = {"device": engine.device, "dtype": str(engine.model.dtype),
                               "rows": args.rows, "batch": args.batch, "lengths": lengths,
                               "rate": args.rate, "torch_threads": torch.get_num_threads()}
    reqs = requests(current, args.rows, lengths)
    arrivals = [i / args.rate if args.rate else 0.0 for i in range(args.rows)]
    runs: dict[str, list[dict[str, float]]] = {"static": [], "continuous": []}
    for _ in range(args.rounds):  # alternate, so both policies see the same noise
        for name in runs:
            runs[name].append(run_policy(engine, reqs, arrivals, batch=args.batch,
                                         continuous=name == "continuous"))
    for name in runs:
        results[name] = r = min(runs[name], key=lambda r: r["seconds"])
        print(f"{name:10s}: {r['tokens_per_s']:7.1f} tokens/s, {r['seconds']:6.1f} s; latency "
              f"p50 {r['latency_p50']:.1f} s p95 {r['latency_p95']:.1f} s; first token "
              f"p50 {r['ttft_p50']:.2f} s p95 {r['ttft_p95']:.2f} s")
    s, c = results["static"], results["continuous"]
    print(f"continuous/static: throughput {c['tokens_per_s'] / s['tokens_per_s']:.2f}x, latency "
          f"p50 {c['latency_p50'] / s['latency_p50']:.2f}x p95 "
          f"{c['latency_p95'] / s['latency_p95']:.2f}x, first token p95 "
          f"{c['ttft_p95'] / max(s['ttft_p95'], 1e-9):.2f}x")

    if args.compare_engine:
        old = load_engine_module(args.compare_engine)
        other = old.Engine(args.model, device=args.device)
        other.set_adapters(paths)
        other.generate(requests(old, 2, [4]))
        timings: dict[str, list[float]] = {"new": [], "old": []}
        for _ in range(args.rounds + 1):  # alternate, so both see the same noise
            for label, eng, module in (("new", engine, current), ("old", other, old)):
                batch = requests(module, args.batch, [args.steady_tokens])
                start = time.perf_counter()
                tokens = sum(r.tokens for r in eng.generate(batch))
                if eng.device.startswith("cuda"):
                    torch.cuda.synchronize()
                timings[label].append(tokens / (time.perf_counter() - start))
        new, before = max(timings["new"]), max(timings["old"])
        results["steady"] = {"new_tokens_per_s": new, "old_tokens_per_s": before,
                             "new_over_old": new / before, "runs": timings}
        print(f"generate, batch {args.batch} x {args.steady_tokens} tokens: new {new:.1f} "
              f"tokens/s, old {before:.1f} tokens/s: new/old {new / before:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["continuous"]))


if __name__ == "__main__":
    main()
