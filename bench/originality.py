"""Originality search at scale: pgvector HNSW against an exact scan on the same table, recall@10,
and the end-to-end check of 3 variants.

In one run, in a database of its own (created from the migrations, dropped at the end):
  1. real passages: the 12 source texts of tests/support/originality_cases.py ("planted") and tone-corpus
     texts (data/tones), split and embedded with the real MiniLM;
  2. the bulk, up to --rows in all, synthetic (--synthetic):
       uniform   random unit vectors (the default, as the task allows);
       gaussian  a Gaussian with the real passages' mean and covariance, normalised;
       mixture   two real vectors mixed plus noise: dense clusters of near-duplicates;
     10% of the bulk belongs to a second workspace, which the search must never return;
  3. the HNSW index built as the migration defines it (m=16, ef_construction=64, cosine);
  4. queries: real embeddings of passages of the light edits, paraphrases, related and unrelated
     texts of the cases, through the app's own search SQL (workspace filter, k=10), with the
     index and with index scans off (exact), for several hnsw.ef_search values; recall@10
     against the exact result, and whether HNSW finds the same best match where that is a
     planted source;
  5. copywriter.originality.search.check_texts on 3 variant texts, end to end (embed, search,
     load sources, report), with the model already loaded, as in a worker, with 1 torch thread
     and with torch's default.

Run: .venv/bin/python bench/originality.py [--rows 100000] [--synthetic uniform] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copywriter.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# A database of its own, so the bench never touches the app's data (and cleans up after itself).
os.environ["TEST_DATABASE_NAME"] = os.environ.get("BENCH_DATABASE_NAME", "copywriter_bench_originality")


def log(msg: str) -> None:
    print(msg, flush=True)


def tone_texts(limit: int) -> list[tuple[str, str]]:
    rows = []
    for path in sorted((ROOT / "data" / "tones").glob("briefs_part*.jsonl")):
        rows.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    out = [(f"{r['id']}:{tone}", text) for r in rows for tone, text in r["outputs"].items()]
    return out[:limit]


def main() -> None:  # noqa: C901 - one linear script
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--real-texts", type=int, default=240, help="tone-corpus texts embedded for real")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--ef", default="20,40,64,100,200,400")
    parser.add_argument("--synthetic", choices=["uniform", "gaussian", "mixture"], default="uniform",
                        help="how the bulk vectors are made (see the code)")
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=64)
    parser.add_argument("--e2e-rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import django

    django.setup()
    import numpy as np
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from copywriter.originality import search
    from copywriter.originality import text as T
    from copywriter.originality.search import embed
    from tests.support.originality_cases import CASES

    results: dict = {"rows": args.rows, "load_average": os.getloadavg()[0]}
    started = time.monotonic()
    creation = connection.creation
    db_name = creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    log(f"database {db_name}: migrated in {time.monotonic() - started:.1f} s")
    try:
        from copywriter.accounts.services import user_create
        from copywriter.originality.models import ReferenceItem
        from copywriter.workspaces.models import Workspace

        user = user_create(email="bench@example.com", password="bench-password-123456", name="Bench")
        ws = Workspace.objects.get(memberships__user=user)
        other = Workspace.objects.create(name="Someone else")

        # 1. real passages (one torch thread: faster while other work holds the cores)
        settings.EMBED_THREADS = 1
        t0 = time.monotonic()
        # the 12 case sources are in the table: their light edits and paraphrases (queries) must
        # find them, with HNSW as with the exact scan
        texts = [(f"case:{c['name']}", c["source"]) for c in CASES] + tone_texts(args.real_texts)
        real_items, real_passages = [], []
        for key, text in texts:
            item = ReferenceItem.objects.create(workspace=ws, title=key, text=text, source_name=key)
            real_items.append(item)
            real_passages.extend((item.pk, p) for p in T.passages(text))
        real_vecs = embed([p.text for _, p in real_passages])
        embed_s = time.monotonic() - t0
        log(f"real passages: {len(real_passages)} from {len(texts)} texts ({len(CASES)} planted case "
            f"sources, {len(texts) - len(CASES)} tone-corpus texts), embedded in "
            f"{embed_s:.1f} s ({len(real_passages) / embed_s:.0f} passages/s)")
        results["real_passages"] = len(real_passages)

        # 2. synthetic bulk, shaped like the real vectors
        rng = np.random.default_rng(7)
        n_synth = max(0, args.rows - len(real_passages))
        if args.synthetic == "uniform":
            # Random unit vectors, as the task allows: nearly orthogonal to everything, so the
            # real passages (and the planted copies) are what a query finds.
            synth = rng.normal(0, 1, (n_synth, 384)).astype(np.float32)
        elif args.synthetic == "gaussian":
            # A Gaussian with the real passages' mean and covariance, normalised: real vectors'
            # anisotropy (MiniLM's are far from uniform on the sphere) without copies of them.
            mean = real_vecs.mean(axis=0)
            cov = np.cov(real_vecs, rowvar=False)
            synth = rng.multivariate_normal(mean, cov, n_synth, method="eigh").astype(np.float32)
        else:
            # Mixtures of two real vectors plus noise: dense clusters of near-duplicates around
            # every real passage, a harder case for a graph index than real text.
            i = rng.integers(0, len(real_vecs), n_synth)
            j = rng.integers(0, len(real_vecs), n_synth)
            w = rng.uniform(0.5, 0.9, (n_synth, 1)).astype(np.float32)
            noise = rng.normal(0, 0.035, (n_synth, 384)).astype(np.float32)
            synth = w * real_vecs[i] + (1 - w) * real_vecs[j] + noise
        synth /= np.linalg.norm(synth, axis=1, keepdims=True)
        results["synthetic"] = args.synthetic
        # Synthetic rows belong to reference items whose text is the rows' labels, so the report
        # can load their spans like any other source. 10% belong to another workspace.
        per_item = 100
        chunks = []
        for start in range(0, n_synth, per_item):
            count = min(per_item, n_synth - start)
            labels = [f"synthetic passage {start + k}." for k in range(count)]
            owner = other if (start // per_item) % 10 == 9 else ws
            item = ReferenceItem.objects.create(workspace=owner, title=f"synthetic {start}",
                                                text=" ".join(labels))
            offsets, pos = [], 0
            for label in labels:
                offsets.append((pos, pos + len(label), label))
                pos += len(label) + 1
            chunks.append((item, offsets, start))

        # COPY, binary, on a connection of its own (pgvector's psycopg adapters)
        import psycopg
        from pgvector.psycopg import register_vector

        t0 = time.monotonic()
        with connection.cursor() as cur:
            cur.execute("DROP INDEX IF EXISTS passage_embedding_hnsw")
        params = connection.get_connection_params()
        with psycopg.connect(**params, autocommit=True) as raw:
            register_vector(raw)
            with raw.cursor() as cur, cur.copy(
                    'COPY originality_passage (workspace_id, kind, reference_id, start, "end", text, '
                    "embedding) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int8", "text", "int8", "int4", "int4", "text", "vector"])
                for (item_pk, p), vec in zip(real_passages, real_vecs, strict=True):
                    copy.write_row((ws.pk, "reference", item_pk, p.start, p.end, p.text, vec))
                for item, offsets, start in chunks:
                    for k, (s, e, label) in enumerate(offsets):
                        copy.write_row((item.workspace_id, "reference", item.pk, s, e, label,
                                        synth[start + k]))
            load_s = time.monotonic() - t0
            total = raw.execute("SELECT count(*) FROM originality_passage").fetchone()[0]
            log(f"table: {total} passages ({len(real_passages)} real, {n_synth} synthetic "
                f"({args.synthetic}); "
                f"{sum(1 for c in chunks if c[0].workspace_id == other.pk) * per_item} in another "
                f"workspace) loaded in {load_s:.1f} s")
            results["table_rows"] = total
            ReferenceItem.objects.update(indexed_at=timezone.now())

            # 3. the HNSW index, as in the migration
            t0 = time.monotonic()
            raw.execute("SET maintenance_work_mem = '1GB'")
            raw.execute("SET max_parallel_maintenance_workers = 1")
            raw.execute("CREATE INDEX passage_embedding_hnsw ON originality_passage USING hnsw "
                        f"(embedding vector_cosine_ops) WITH (m = {int(args.m)}, "
                        f"ef_construction = {int(args.ef_construction)})")
            raw.execute("ANALYZE originality_passage")
            build_s = time.monotonic() - t0
            log(f"HNSW index (m={args.m}, ef_construction={args.ef_construction}) built in "
                f"{build_s:.1f} s")
            results["index_build_seconds"] = round(build_s, 1)

        # 4. queries: real embeddings of texts that are not in the table
        qtexts = [p.text for c in CASES for cat in ("light", "heavy", "related", "unrelated")
                  for p in T.passages(c[cat])][: args.queries]
        qvecs = embed(qtexts)
        sql = search._NEAREST_SQL.format(exclude="")

        def run(vec: np.ndarray, *, exact: bool, ef: int) -> tuple[float, list[int]]:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("SELECT set_config('hnsw.ef_search', %s, true), "
                            "set_config('hnsw.iterative_scan', 'relaxed_order', true)", [str(ef)])
                if exact:
                    cur.execute("SET LOCAL enable_indexscan = off")
                t = time.perf_counter()
                cur.execute(sql, {"ids": [0], "vectors": [search.vector_literal(vec)], "ws": ws.pk,
                                  "k": 10})
                rows = cur.fetchall()
                elapsed = time.perf_counter() - t
            return elapsed, [r[1] for r in rows]

        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("EXPLAIN " + sql, {"ids": [0], "vectors": [search.vector_literal(qvecs[0])],
                                           "ws": ws.pk, "k": 10})
            plan = "\n".join(r[0] for r in cur.fetchall())
        uses_index = "passage_embedding_hnsw" in plan
        log(f"plan uses the HNSW index: {uses_index}")
        run(qvecs[0], exact=True, ef=40)  # warm the table into the cache before timing
        exact_times, truth, best = [], [], []
        for v in qvecs:
            t, ids = run(v, exact=True, ef=40)
            exact_times.append(t)
            truth.append(set(ids))
            best.append(ids[0] if ids else None)
        exact_ms = statistics.median(exact_times) * 1000
        # queries whose best match is a planted source passage (a light edit or a paraphrase of it)
        planted = {pk for pk, in ReferenceItem.objects.filter(source_name__startswith="case:")
                   .values_list("passages__pk")}
        near = [k for k, b in enumerate(best) if b in planted]
        log(f"\nexact scan (index scans off): median {exact_ms:.1f} ms per query "
            f"({len(qvecs)} queries, k=10; {len(near)} of them have a planted source as best match)")
        log(f"{'ef_search':>9}  {'HNSW ms (median)':>16}  {'p95':>6}  {'speed-up':>8}  {'recall@10':>9}  "
            f"{'same best match (planted)':>25}")
        results["exact_ms_median"] = round(exact_ms, 2)
        results["planted_queries"] = len(near)
        results["hnsw"] = {}
        for ef in [int(x) for x in args.ef.split(",")]:
            times, recalls, same = [], [], 0
            run(qvecs[0], exact=False, ef=ef)
            for k, (v, want) in enumerate(zip(qvecs, truth, strict=True)):
                t, ids = run(v, exact=False, ef=ef)
                times.append(t)
                recalls.append(len(want & set(ids)) / max(1, len(want)))
                same += int(k in near and bool(ids) and ids[0] == best[k])
            med = statistics.median(times) * 1000
            p95 = sorted(times)[int(0.95 * (len(times) - 1))] * 1000
            recall = statistics.mean(recalls)
            results["hnsw"][ef] = {"ms_median": round(med, 2), "ms_p95": round(p95, 2),
                                   "speedup": round(exact_ms / med, 1), "recall_at_10": round(recall, 3),
                                   "planted_best_match_found": f"{same}/{len(near)}"}
            marker = "  <- the app's default" if ef == search.EF_SEARCH else ""
            log(f"{ef:9}  {med:16.2f}  {p95:6.2f}  {exact_ms / med:7.1f}x  {recall:9.3f}  "
                f"{f'{same}/{len(near)}':>25}{marker}")

        # privacy under load: the other workspace's rows never come back
        ids = set()
        for v in qvecs[:10]:
            ids |= set(run(v, exact=False, ef=search.EF_SEARCH)[1])
        leaked = ReferenceItem.objects.filter(passages__pk__in=ids, workspace=other).count()
        log(f"rows of the other workspace returned: {leaked}")
        results["other_workspace_rows_returned"] = leaked

        # 5. end to end: 3 variants, model loaded (as in a worker)
        variants = [CASES[0]["light"], "Arrive at work fresh instead of soaked: the Voltra does the hard "
                    "pedalling. Its quiet motor flattens steep streets, and the battery unclips to "
                    "charge indoors.", CASES[6]["unrelated"]]
        import torch

        items = [search.CheckItem(ws.pk, text) for text in variants]
        search.check_texts(items)  # warm-up (the model is loaded already, as in a worker)
        e2e = {}
        for threads in sorted({1, torch.get_num_threads()}):
            settings.EMBED_THREADS = threads
            times = []
            for _ in range(args.e2e_rounds):
                t = time.perf_counter()
                reports = search.check_texts(items)
                times.append(time.perf_counter() - t)
            e2e[threads] = round(statistics.median(times), 3)
            log(f"\ncheck 3 variants end to end ({sum(r['passages_checked'] for r in reports)} passages: "
                f"embed + search + report), torch threads={threads}: median {e2e[threads]:.3f} s, "
                f"best {min(times):.3f} s over {args.e2e_rounds} runs")
        results["e2e_seconds_median_by_threads"] = e2e
        results["e2e_verdicts"] = [r["verdict"] for r in reports]
        log(f"verdicts: {results['e2e_verdicts']} (a light edit and a paraphrase of planted "
            "sources, an unrelated text)")
        results["load_average_end"] = os.getloadavg()[0]
        log(f"\nload average {results['load_average']:.1f} at the start, "
            f"{results['load_average_end']:.1f} at the end (2 cores)")
    finally:
        if not args.keep:
            creation.destroy_test_db(db_name, verbosity=0)
            log(f"dropped {db_name}; total {time.monotonic() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
