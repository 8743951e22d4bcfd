"""Bulk throughput: rows per minute with the worker's batching against one row at a time.

Both go through the same path as a worker (``copywriter.pipeline.local.run_bulk``): the
scheduler (up to GENERATION_BATCH_SEQUENCES sequences in the running batch), the engine session
with the real model, the originality review and the bulk hook that records each row and queues
the next ones. The
only difference is the batch size: the worker's (32 by default) against 1. The one-at-a-time
baseline runs on the first --sample rows of the same file (it is the slow one), reported as rows
per minute. Everything runs in this one process, on this machine, with the same torch threads.

Run: .venv/bin/python bench/bulk.py [--rows 200] [--sample 20] [--length short]
Writes docs/bench/bulk.json. Uses the configured database (a 'bench' workspace, removed after).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copywriter.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PRODUCTS = ["merino jumper", "cast iron grill pan", "trail running shoe", "bamboo cutting board",
            "waxed canvas backpack", "ceramic pour-over set", "linen duvet cover", "steel bottle",
            "wool beanie", "oak desk organiser"]
BUYERS = ["Commuters who walk to work", "Home cooks without a barbecue", "Weekend trail runners",
          "People who cook every night", "Students who carry a laptop every day"]


def catalogue(n: int) -> bytes:
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["sku", "product", "customer", "features", "length"])
    for i in range(n):
        name = PRODUCTS[i % len(PRODUCTS)]
        w.writerow([f"SKU-{i:04d}", f"Harbour {name} no. {i}", BUYERS[i % len(BUYERS)],
                    f"Made in Portugal\nSize {i % 7 + 1}\nColour {['red', 'navy', 'sand'][i % 3]}",
                    "short (60-90 words)"])
    return out.getvalue().encode()


def timed_run(membership, template, data: bytes, length: str, batch: int) -> dict:
    from django.conf import settings

    from copywriter.bulk import services
    from copywriter.generation.models import Generation
    from copywriter.pipeline.local import run_bulk

    settings.GENERATION_BATCH_SEQUENCES = batch
    run = services.bulk_run_create(membership=membership, template=template, tone="neutral",
                                   file_name=f"bench-{batch}.csv", data=data, length=length,
                                   local=True)
    started = time.monotonic()
    run = services.bulk_run_start(membership=membership, run=run)
    run = run_bulk(run_id=run.pk)
    seconds = time.monotonic() - started
    gens = Generation.objects.filter(bulk_rows__run=run)
    tokens = sum(g.timings.get("tokens", 0) for g in gens)  # every attempt, rewrites included
    review = sum(g.timings.get("review_seconds", 0.0) for g in gens)
    rounds = {str(n): sum(1 for g in gens if g.timings.get("rewrites", 0) == n)
              for n in sorted({g.timings.get("rewrites", 0) for g in gens})}
    # Issue 17: rows whose variant the review rewrote (a flag), and what the review costs.
    rewritten = sum(1 for g in gens if g.timings.get("rewrites", 0))
    flagged = sum(1 for g in gens if any((v.originality or {}).get("verdict") in ("copy", "paraphrase")
                                         for v in g.results.all()))
    return {"rows": run.total, "done": run.done, "failed": run.failed, "seconds": round(seconds, 1),
            "rows_rewritten": rewritten, "rows_still_flagged": flagged,
            "review_seconds_per_row": round(review / max(1, len(gens)), 3),
            "rows_per_minute": round(run.done / seconds * 60, 2), "tokens": tokens,
            "tokens_per_second": round(tokens / seconds, 1), "batch_limit": batch,
            "originality_review_seconds": round(review, 1), "rows_by_rewrites": rounds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--length", default="short")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-new-tokens", type=int, default=64,
                        help="cap per row (GENERATION_MAX_NEW_TOKENS), keeps the bench short")
    parser.add_argument("--json", default=str(ROOT / "docs" / "bench" / "bulk.json"))
    parser.add_argument("--phases", default="batched,single",
                        help="which measurements to take (both by default)")
    args = parser.parse_args()

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
    from copywriter.ml.engine import get_engine
    from copywriter.workspaces.models import Membership
    from copywriter.workspaces.services import workspace_create

    call_command("migrate", verbosity=0)
    settings.GENERATION_DAILY_QUOTA = 10**9
    settings.GENERATION_MAX_NEW_TOKENS = args.max_new_tokens
    # Leftovers of an interrupted bench must not be claimed by this one (or by a worker).
    from copywriter.workspaces.models import Workspace
    Workspace.objects.filter(name="bench bulk", memberships__user__email="bench-bulk@localhost").delete()
    spec = load_file(settings.TEMPLATES_LIB_DIR / "ecommerce" / "ecommerce-product-description.yaml")
    template = Template.objects.filter(slug=spec.id, workspace__isnull=True).first() or \
        Template.objects.create(slug=spec.id)
    _upsert(template, spec)
    template.refresh_from_db()
    user, _ = User.objects.get_or_create(email="bench-bulk@localhost")
    ws = workspace_create(owner=user, name="bench bulk")
    membership = Membership.objects.get(workspace=ws, user=user)
    worker_batch = settings.GENERATION_BATCH_SEQUENCES
    engine = get_engine()  # load once, outside both timings, and warm both models up
    from copywriter.ml.embeddings import embed
    from copywriter.ml.engine import SeqRequest

    embed(["warm up the embedding model"])
    engine.generate([SeqRequest(prompt="Warm up.", max_new_tokens=4, seed=1,
                                key=(0, 0))])
    load_before = os.getloadavg()
    try:
        print(f"model on {engine.device}; batched run of {args.rows} rows, batch {worker_batch}",
              flush=True)
        phases = args.phases.split(",")
        batched = single = None
        if "batched" in phases:
            batched = timed_run(membership, template, catalogue(args.rows), args.length,
                                worker_batch)
            print("batched:", batched, flush=True)
        if "single" in phases:
            single = timed_run(membership, template, catalogue(args.sample), args.length, 1)
            print("one at a time:", single, flush=True)
    finally:
        settings.GENERATION_BATCH_SEQUENCES = worker_batch
        ws.delete()
    result = {
        "what": "bulk rows per minute: the worker's batching vs one row at a time, same process, "
                "same path (scheduler, engine session, originality review, bulk hook)",
        "template": spec.id, "length": args.length, "tone": "neutral",
        "torch_threads": args.threads, "max_new_tokens": args.max_new_tokens, "machine": platform.machine(),
        "cpus": os.cpu_count(), "device": str(engine.device),
        "load_average_1_5_15": {"before": [round(x, 2) for x in load_before],
                                "after": [round(x, 2) for x in os.getloadavg()]},
        "batched": batched,
        "one_at_a_time": {**single, "note": f"first {args.sample} rows"} if single else None,
        "speedup_rows_per_minute": round(batched["rows_per_minute"] / single["rows_per_minute"], 2)
        if batched and single else None,
        "command": "python bench/bulk.py " + " ".join(sys.argv[1:]),
    }
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
