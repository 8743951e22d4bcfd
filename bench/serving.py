"""Serving a team at once: the static scheduler against continuous batching, in one run.

A bulk run of --rows catalogue rows is in flight while --requests interactive requests (3
variants each, random tones; Google search ads, written item by item, and blog introductions,
written whole) arrive at random intervals (exponential, mean --every seconds) from --workspaces
other workspaces. Each scheduler gets the same load in turn (the same arrivals at the same
times, drawn once), in this one process, through the worker's own path
(``copywriter.pipeline.local``: scheduler, engine session, originality review, storing, bulk
bookkeeping); only the scheduler differs:

- static: claim up to GENERATION_BATCH_SEQUENCES sequences in arrival order, decode them to the
  end, review, rewrite flagged ones in extra rounds, then look at the queue again;
- continuous: interactive first, bulk within its share, rows join and leave between steps.

Reports interactive time to first token and to done (p50/p95, from the request's creation),
bulk rows/min and tokens/s, and the new scheduler's figures as ratios of the static one's.
Targets on this CPU: interactive p95 time to first token under bulk load <= 3 s; bulk
throughput >= 0.9x the static scheduler's.

    .venv/bin/python bench/serving.py [--rows 120] [--requests 12] [--every 15] [--whole]
                                      [--device cpu|cuda]

The defaults are the product's path (search ads item by item, ~2,000 tokens a request) at a
rate this 2-core CPU can hold; ``--rows 120 --requests 24 --every 6 --whole`` is the load the
issue first measured (every template one sequence, ~200 tokens a request).

Writes docs/bench/serving.json. Uses the configured database (bench workspaces, removed after).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copywriter.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bulk import catalogue  # noqa: E402  (bench/bulk.py: the same catalogue file)

TONES = ["neutral", "professional", "friendly", "witty", "persuasive", "bold"]
BRIEFS = {
    "ad": [{"product": "Brightpath online maths tutoring",
            "benefit": "Certified teachers, flexible evening slots, first lesson free"},
           {"product": "Fernway hiking boots", "benefit": "Waterproof leather, 2-year warranty"},
           {"product": "Kettle & Leaf loose tea",
            "benefit": "Single-estate teas, free UK delivery"}],
    "intro": [{"title": "How to choose hiking boots for wet trails", "keyword": "waterproof hiking boots",
               "reader_problem": "wet feet and blisters on long walks",
               "sections": "fit, materials, waterproofing, care"},
              {"title": "Loose tea for beginners", "keyword": "loose leaf tea",
               "reader_problem": "tea bags taste flat and stale",
               "sections": "choosing a tea, brewing, storing"}],
}


def schedule(n: int, every: float, workspaces: int, seed: int) -> list[dict]:
    """The interactive arrivals, drawn once and replayed for every scheduler."""
    rnd = random.Random(seed)
    at = 0.0
    out = []
    for i in range(n):
        at += rnd.expovariate(1 / every)
        kind = "ad" if i % 2 == 0 else "intro"
        out.append({"at": at, "member": rnd.randrange(workspaces), "kind": kind,
                    "fields": rnd.choice(BRIEFS[kind]), "tone": rnd.choice(TONES)})
    return out


def pct(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 2)


def phase(name: str, *, static: bool, engine, bulk_member, members, bulk_template, templates,
          rows: int, arrivals_plan: list[dict]) -> dict:
    from django.db import connection

    from copywriter.bulk import services
    from copywriter.generation.models import Generation
    from copywriter.generation.services import generation_create
    from copywriter.pipeline.local import run_bulk, run_queued

    run = services.bulk_run_create(membership=bulk_member, template=bulk_template, tone="neutral",
                                   file_name=f"serving-{name}.csv", data=catalogue(rows),
                                   length="short", local=True)
    interactive: list[int] = []
    kinds: dict[int, str] = {}
    stop = threading.Event()

    def arrivals() -> None:
        try:
            for a in arrivals_plan:
                if stop.wait(max(0.0, started + a["at"] - time.monotonic())):
                    return
                gen = generation_create(membership=members[a["member"]],
                                        template=templates[a["kind"]], fields=a["fields"],
                                        tone=a["tone"], variants=3, length="short",
                                        per_minute_limit=False, enqueue_job=False)
                interactive.append(gen.pk)
                kinds[gen.pk] = a["kind"]
        finally:
            connection.close()

    started = time.monotonic()
    services.bulk_run_start(membership=bulk_member, run=run)
    thread = threading.Thread(target=arrivals, daemon=True)
    thread.start()
    run = run_bulk(run_id=run.pk, engine=engine, static=static)
    bulk_seconds = time.monotonic() - started
    late = len(arrivals_plan) - len(interactive)  # arrived after the bulk run ended
    thread.join()
    run_queued(engine=engine, static=static)  # what arrived last
    wall = time.monotonic() - started
    gens = list(Generation.objects.filter(pk__in=interactive))
    ttft = [g.timings["first_token_seconds"] for g in gens if "first_token_seconds" in g.timings]
    done = [g.timings["done_seconds"] for g in gens if "done_seconds" in g.timings]
    by_kind = {}
    for kind in BRIEFS:
        mine = [g for g in gens if kinds.get(g.pk) == kind and "done_seconds" in g.timings]
        by_kind[kind] = {"requests": len(mine),
                         "ttft_p50_s": pct([g.timings["first_token_seconds"] for g in mine], 50),
                         "ttft_p95_s": pct([g.timings["first_token_seconds"] for g in mine], 95),
                         "done_p50_s": pct([g.timings["done_seconds"] for g in mine], 50),
                         # of the time to first token, waiting to be claimed (the rest: the
                         # prefill and the step it shares)
                         "queue_p50_s": pct([g.timings["queue_seconds"] for g in mine], 50),
                         "queue_p95_s": pct([g.timings["queue_seconds"] for g in mine], 95),
                         "tokens_per_request": round(sum(g.timings.get("tokens", 0) for g in mine)
                                                     / max(1, len(mine)))}
    bulk_gens = Generation.objects.filter(bulk_rows__run=run)
    tokens = sum(v.tokens for g in [*gens, *bulk_gens] for v in g.results.all())
    rewrites = sum(g.timings.get("rewrites", 0) for g in bulk_gens)
    return {"scheduler": name, "bulk_rows": run.total, "bulk_done": run.done,
            "bulk_seconds": round(bulk_seconds, 1),
            "bulk_rows_per_minute": round(run.done / bulk_seconds * 60, 2),
            "interactive_requests": len(gens), "interactive_stored": len(done),
            "interactive_after_bulk": late, "by_kind": by_kind,
            "ttft_p50_s": pct(ttft, 50), "ttft_p95_s": pct(ttft, 95),
            "done_p50_s": pct(done, 50), "done_p95_s": pct(done, 95),
            "tokens": tokens, "tokens_per_second": round(tokens / wall, 1),
            "bulk_rewrites": rewrites, "wall_seconds": round(wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=120)
    parser.add_argument("--requests", type=int, default=12, help="interactive requests")
    parser.add_argument("--every", type=float, default=15.0, help="mean seconds between requests")
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--whole", action="store_true",
                        help="write slot templates whole (GENERATION_SLOTS=0): one sequence a "
                             "variant, the load the issue first measured")
    parser.add_argument("--workspaces", type=int, default=3)
    parser.add_argument("--candidates", type=int, default=1,
                        help="best of N in the bench's workspaces (a new workspace has 3; the "
                             "recorded figures were measured at 1)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: as the worker picks)")
    parser.add_argument("--max-new-tokens", type=int, default=64,
                        help="cap per row (GENERATION_MAX_NEW_TOKENS), keeps the bench short")
    parser.add_argument("--schedulers", default="static,continuous",
                        help="static, continuous, continuous-unshared (no shared prefill), "
                             "continuous-together (admitting steps also decode)")
    parser.add_argument("--prefill-chars", type=int, default=None,
                        help="prompt characters a step prefills at most (engine.PREFILL_CHARS; 0: "
                             "no limit)")
    parser.add_argument("--json", default=str(ROOT / "docs" / "bench" / "serving.json"))
    args = parser.parse_args()
    if args.device:
        os.environ["COPYWRITER_DEVICE"] = args.device

    import django
    import torch

    torch.set_num_threads(args.threads)
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from copywriter.accounts.models import User
    from copywriter.catalog.models import Template
    from copywriter.catalog.schema import load_file
    from copywriter.catalog.services import _upsert
    from copywriter.ml.engine import SeqRequest, get_engine
    from copywriter.workspaces.models import Membership, Workspace
    from copywriter.workspaces.services import workspace_create

    call_command("migrate", verbosity=0)
    # A bench makes hundreds of jobs a minute: lift every generation limit (workspace, user,
    # deployment) for this process only.
    for name in ("GENERATION_DAILY_QUOTA", "GENERATION_USER_DAILY_QUOTA", "GENERATION_SITE_DAILY_QUOTA",
                 "GENERATION_RATE_PER_MINUTE", "GENERATION_USER_RATE_PER_MINUTE",
                 "GENERATION_SITE_RATE_PER_MINUTE"):
        setattr(settings, name, 10**9)
    settings.GENERATION_MAX_NEW_TOKENS = args.max_new_tokens
    if args.whole:
        settings.GENERATION_SLOTS = False
    Workspace.objects.filter(name__startswith="bench serving").delete()  # an interrupted run's

    def template(path: str) -> Template:
        spec = load_file(settings.TEMPLATES_LIB_DIR / path)
        tpl = Template.objects.filter(slug=spec.id, workspace__isnull=True).first() or \
            Template.objects.create(slug=spec.id)
        _upsert(tpl, spec)
        tpl.refresh_from_db()
        return tpl

    bulk_template = template("ecommerce/ecommerce-product-description.yaml")
    templates = {"ad": template("ads/google-search-ad.yaml"),
                 "intro": template("blog/blog-intro.yaml")}
    user, _ = User.objects.get_or_create(email="bench-serving@localhost")
    names = args.schedulers.split(",")
    # Each scheduler's bulk run in a workspace of its own: the second run's rows must not be
    # compared with the first run's identical catalogue (the originality review would rewrite
    # them as copies of another run's rows).
    spaces = [workspace_create(owner=user, name=f"bench serving {i}")
              for i in range(args.workspaces + len(names))]
    Workspace.objects.filter(pk__in=[ws.pk for ws in spaces]).update(candidates=args.candidates)
    members = [Membership.objects.get(workspace=ws, user=user) for ws in spaces]
    bulk_members, members = members[:len(names)], members[len(names):]
    engine = get_engine()
    if args.prefill_chars is not None:
        engine.prefill_chars = args.prefill_chars
    engine.generate([SeqRequest(prompt="Warm up.", max_new_tokens=4, seed=1, key=(0, 0))])
    # the review's embedder too: loaded once a process (about 2 s), not in a request's time
    from copywriter.ml.embeddings import get_embedder
    get_embedder()
    load_before = os.getloadavg()
    plan = schedule(args.requests, args.every, args.workspaces, args.seed)
    results = {}
    try:
        for i, name in enumerate(names):
            # "continuous-unshared": continuous batching with every prompt prefilled whole;
            # "continuous-together": a step that admits rows also decodes the running ones
            engine.share_prefill = name != "continuous-unshared"
            engine.prefill_alone = name != "continuous-together"
            results[name] = phase(name, static=name == "static", engine=engine,
                                  bulk_member=bulk_members[i], members=members,
                                  bulk_template=bulk_template, templates=templates,
                                  rows=args.rows, arrivals_plan=plan)
            print(json.dumps(results[name]), flush=True)
    finally:
        for ws in spaces:
            ws.delete()
    load_after = os.getloadavg()
    print(f"\n{args.rows}-row bulk run + {args.requests} interactive requests every ~{args.every:.0f} s "
          f"({'written whole' if args.whole else 'slot templates item by item'}) from "
          f"{args.workspaces} workspaces; {engine.device}, {args.threads} torch threads; load "
          f"average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n")
    cols = ["ttft_p50_s", "ttft_p95_s", "done_p50_s", "done_p95_s", "bulk_rows_per_minute",
            "tokens_per_second", "bulk_rewrites", "interactive_requests"]
    print(f"{'scheduler':<20}" + "".join(f"{c:>22}" for c in cols))
    for name, r in results.items():
        print(f"{name:<20}" + "".join(f"{str(r[c]):>22}" for c in cols))
        for kind, k in r["by_kind"].items():
            print(f"  {kind:<18}" + "".join(f"{c}={k[c]}  " for c in k))
    ratios = {}
    if "static" in results and "continuous" in results:
        old, new = results["static"], results["continuous"]
        ratios = {"bulk_rows_per_minute": round(new["bulk_rows_per_minute"] / old["bulk_rows_per_minute"], 2),
                  "tokens_per_second": round(new["tokens_per_second"] / old["tokens_per_second"], 2)}
        print(f"\ncontinuous / static: bulk rows/min {ratios['bulk_rows_per_minute']}x (target >= 0.9), "
              f"tokens/s {ratios['tokens_per_second']}x; interactive p95 time to first token "
              f"{new['ttft_p95_s']} s (target <= 3 s) against {old['ttft_p95_s']} s")
    Path(args.json).write_text(json.dumps({
        "command": "python bench/serving.py " + " ".join(sys.argv[1:]), "device": str(engine.device),
        "torch_threads": args.threads, "cpus": os.cpu_count(), "max_new_tokens": args.max_new_tokens,
        "slots": not args.whole, "requests": args.requests, "every_seconds": args.every,
        "load_average_before": round(load_before[0], 2), "load_average_after": round(load_after[0], 2),
        "results": results, "continuous_over_static": ratios}, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
