"""Load test of the server `make run` starts: N concurrent clients for T seconds mixing page
views, htmx polls and API calls (reads and document saves). Target: zero 5xx.

    .venv/bin/python bench/load.py [--clients 50] [--seconds 60]

Seeds the dev database like bench/web.py (one user, the template library, 50 documents), makes an
API token and starts one real generation (so the polls watch a job that the worker is running),
then starts `manage.py run_all` (gunicorn with a connection pool per process, plus the Celery
worker) on a free port and lets every client send requests one after another on fresh
connections until the time is up. The API's per-token rate limit is raised for the run (one
token serves all clients); everything else is `make run`'s configuration. Prints per kind of
request the count, status codes, p50/p95/p99, and writes docs/bench/load.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from web import free_port, seed  # noqa: E402  (bench/web.py: the same seeded workspace)


def api_setup(ws: int) -> tuple[str, int]:
    """An API token for the seeded workspace and one generation it started (id)."""
    from copywriter.api.services import token_create
    from copywriter.catalog.models import Template
    from copywriter.generation.services import generation_create
    from copywriter.workspaces.models import Membership

    membership = Membership.objects.filter(workspace_id=ws, role="owner").select_related("user").first()
    assert membership is not None
    secret = token_create(membership=membership, name=f"load {int(time.time())}", role="editor").secret
    template = Template.objects.get(slug="google-search-ad", workspace=None)
    gen = generation_create(membership=membership, template=template, tone="friendly",
                            fields={"product": "Fernway hiking boots",
                                    "benefit": "Waterproof leather, 2-year warranty, free returns"},
                            variants=1)
    return secret, gen.pk


def request(port: int, method: str, path: str, headers: dict[str, str],
            body: bytes | None = None) -> tuple[int, float, bytes]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers={**headers, "Connection": "close"})
        response = conn.getresponse()
        data = response.read()
        return response.status, time.perf_counter() - started, data
    except OSError:
        return 0, time.perf_counter() - started, b""  # refused or reset: counted as a failure
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--server", choices=["make-run", "runserver"], default="make-run",
                        help="runserver: the server `make run` used before (a thread and a kept "
                             "database connection per request), for comparison")
    parser.add_argument("--out", default=str(ROOT / "docs" / "bench" / "load.json"))
    args = parser.parse_args()

    ws, template, doc, cookie = seed()
    secret, gen = api_setup(ws)
    port = free_port()
    env = {**os.environ, "API_REQUESTS_PER_MINUTE": "1000000", "LOG_LEVEL": "WARNING"}
    argv = ([sys.executable, "manage.py", "run_all", "--port", str(port), "--keep-embedded"]
            if args.server == "make-run" else
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"])
    server = subprocess.Popen(argv, cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    page = {"Cookie": f"sessionid={cookie}"}
    htmx = {**page, "HX-Request": "true"}
    api = {"Authorization": f"Bearer {secret}"}
    save = {**api, "Content-Type": "application/json"}
    mix: list[tuple[str, str, str, dict[str, str], float]] = [
        # kind, method, path, headers, weight
        ("page: catalog", "GET", f"/w/{ws}/templates/", page, 1),
        ("page: document list", "GET", f"/w/{ws}/documents/", page, 1),
        ("page: editor", "GET", f"/w/{ws}/documents/{doc}/", page, 1),
        ("page: generate form", "GET", f"/w/{ws}/templates/{template}/", page, 1),
        ("htmx poll: generation", "GET", f"/w/{ws}/generations/{gen}/", htmx, 3),
        ("api: templates search", "GET", "/api/v1/templates?q=email", api, 1),
        ("api: documents", "GET", "/api/v1/documents", api, 1),
        ("api: generation", "GET", f"/api/v1/generations/{gen}", api, 1),
        ("api: document save", "POST", f"/api/v1/documents/{doc}/versions", save, 0.5),
    ]
    weights = [m[4] for m in mix]
    results: dict[str, list[tuple[int, float]]] = {m[0]: [] for m in mix}
    lock = threading.Lock()
    try:
        deadline = time.monotonic() + 120
        while request(port, "GET", "/healthz?quick=1", {})[0] != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.5)
        load_before = os.getloadavg()
        stop_at = time.monotonic() + args.seconds

        def client(seed_: int) -> None:
            rnd = random.Random(seed_)
            while time.monotonic() < stop_at:
                kind, method, path, headers, _ = rnd.choices(mix, weights)[0]
                body = None
                if method == "POST":
                    # A save names the version it started from, as the editor does: read the head
                    # first (two clients saving at once: the later one gets a 409 and a kept
                    # conflict copy, by design).
                    status, _, data = request(port, "GET", f"/api/v1/documents/{doc}", api)
                    head = json.loads(data)["head_version"] if status == 200 else 1
                    body = json.dumps({"body": f"Fernway boots, saved by client {seed_} at {time.time()}.",
                                       "base_version": head}).encode()
                status, seconds, _ = request(port, method, path, headers, body)
                with lock:
                    results[kind].append((status, seconds))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        load_after = os.getloadavg()
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()

    def summary(rows: list[tuple[int, float]]) -> dict[str, object]:
        seconds = sorted(s for _, s in rows)
        q = (statistics.quantiles(seconds, n=100, method="inclusive") if len(seconds) > 1
             else [seconds[0]] * 99)
        codes = Counter(code for code, _ in rows)
        return {"requests": len(rows), "statuses": dict(sorted(codes.items())),
                "5xx_or_failed": sum(n for c, n in codes.items() if c >= 500 or c == 0),
                "p50_ms": round(q[49] * 1000, 1), "p95_ms": round(q[94] * 1000, 1),
                "p99_ms": round(q[98] * 1000, 1)}

    every = [row for rows in results.values() for row in rows]
    table = {kind: summary(rows) for kind, rows in results.items() if rows}
    total = summary(every)
    print(f"\n{' '.join(argv[2:4])}, {args.clients} clients x {args.seconds:.0f} s, "
          f"{os.cpu_count()} CPUs, load average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n")
    print(f"{'request':<26}{'n':>7}{'5xx':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  statuses")
    for kind, r in [*table.items(), ("all", total)]:
        print(f"{kind:<26}{r['requests']:>7}{r['5xx_or_failed']:>6}{r['p50_ms']:>9}{r['p95_ms']:>9}"
              f"{r['p99_ms']:>9}  {r['statuses']}")
    print(f"\n{total['requests'] / args.seconds:.1f} requests/s; target zero 5xx: "
          + ("met" if total["5xx_or_failed"] == 0 else "MISSED"))
    Path(args.out).write_text(json.dumps({
        "command": "python bench/load.py " + " ".join(sys.argv[1:]), "server": " ".join(argv[1:]),
        "clients": args.clients,
        "seconds": args.seconds, "cpus": os.cpu_count(), "load_average_before": round(load_before[0], 2),
        "load_average_after": round(load_after[0], 2), "all": total, "kinds": table}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
