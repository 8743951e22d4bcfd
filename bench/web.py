"""Page latency under gunicorn: catalog, generate form, document list and document editor at N
concurrent users, next to a trivial Django view under the same server settings.

    .venv/bin/python bench/web.py [--users 20] [--requests 15] [--workers 4] [--threads 1]

Seeds (idempotently) a workspace in the dev database: one user, the whole template library synced,
50 documents with a few versions each. Starts gunicorn on a free port with COPYWRITER_BENCH=1,
which mounts /bench/trivial/ (no database, no template: the floor, through the same middleware).
Logs in with a real session cookie. Every user (a thread) sends requests one after another on
fresh connections; pages take turns in --rounds rounds so load from elsewhere hits them alike.
Prints p50/p99 per page and the ratio of each page's p99 to the trivial view's p50; writes
docs/bench/web.json. Target: ratio <= 5. The pages are served from the page cache after each
gunicorn worker's first visit (copywriter/core/pagecache.py); --uncached turns it off, so every
request queries and renders (the cost of a miss, e.g. right after someone edits).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copywriter.settings")
EMAIL = "bench-web@example.com"
TARGET_RATIO = 5.0


def seed() -> tuple[int, int, int, str]:
    """(workspace id, template id, document id, session cookie value)."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from copywriter.accounts.models import User
    from copywriter.accounts.services import user_create
    from copywriter.catalog.models import Template
    from copywriter.catalog.services import templates_sync
    from copywriter.documents.models import Document
    from copywriter.documents.services import document_create, document_save
    from copywriter.workspaces.models import Membership

    call_command("migrate", verbosity=0)
    report = templates_sync(root=settings.TEMPLATES_LIB_DIR)
    user = User.objects.filter(email=EMAIL).first() or user_create(
        email=EMAIL, password="bench password 1234", name="Bench")
    membership = Membership.objects.filter(user=user).select_related("workspace").first()
    assert membership is not None
    ws = membership.workspace
    have = Document.objects.filter(workspace=ws).count()
    body = ("Fernway boots keep your feet dry on every trail. " * 12 + "\n\n") * 4
    for i in range(have, 50):
        doc = document_create(membership=membership, title=f"Launch copy {i + 1}", body=body)
        for v in range(2):
            document_save(membership=membership, document_id=doc.pk, title=doc.title,
                          body=body + f"\nEdit {v + 1}.", base_number=doc.head_number)
            doc.refresh_from_db()
    template = Template.objects.get(slug="google-search-ad", workspace=None)
    doc = Document.objects.filter(workspace=ws).order_by("pk").first()
    assert doc is not None
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    print(f"seeded: workspace {ws.pk}, {Template.objects.filter(workspace=None).count()} templates "
          f"({report.created} new), {Document.objects.filter(workspace=ws).count()} documents")
    return ws.pk, template.pk, doc.pk, str(session.session_key)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, cookie: str) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}", "Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def run_round(port: int, path: str, cookie: str, users: int, per_user: int,
              latencies: list[float], bad: list[int]) -> float:
    """``users`` threads, each sending ``per_user`` requests one after another; returns the
    wall time."""
    lock = threading.Lock()

    def user() -> None:
        for _ in range(per_user):
            status, seconds = get(port, path, cookie)
            with lock:
                latencies.append(seconds)
                if status != 200:
                    bad.append(status)

    threads = [threading.Thread(target=user) for _ in range(users)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def summary(path: str, latencies: list[float], bad: list[int], wall: float) -> dict[str, object]:
    latencies = sorted(latencies)
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"path": path, "requests": len(latencies), "errors": len(bad),
            "error_statuses": sorted(set(bad)), "p50_ms": round(q[49] * 1000, 1),
            "p99_ms": round(q[98] * 1000, 1), "max_ms": round(latencies[-1] * 1000, 1),
            "rps": round(len(latencies) / wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=20, help="per user, per page")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help=">1: gunicorn's gthread worker")
    parser.add_argument("--rounds", type=int, default=5, help="pages take turns this many times")
    parser.add_argument("--uncached", action="store_true",
                        help="PAGE_CACHE_SECONDS=0: every request queries and renders its page")
    parser.add_argument("--out", default=str(ROOT / "docs" / "bench" / "web.json"))
    args = parser.parse_args()

    ws, template, doc, cookie = seed()
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server_args = ["copywriter.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
                   "--threads", str(args.threads), "--log-level", "warning"]
    env = {**os.environ, "COPYWRITER_BENCH": "1", "DEBUG": "0", "LOG_LEVEL": "WARNING"}
    if args.uncached:
        env["PAGE_CACHE_SECONDS"] = "0"
    server = subprocess.Popen([gunicorn, *server_args], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(port, "/bench/trivial/", cookie)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.3)
        pages = {
            "trivial view": "/bench/trivial/",
            "catalog": f"/w/{ws}/templates/",
            "generate form": f"/w/{ws}/templates/{template}/",
            "document list": f"/w/{ws}/documents/",
            "document editor": f"/w/{ws}/documents/{doc}/",
        }
        # Warm every gunicorn worker's caches and connections: concurrent users, so that every
        # worker serves each page (one after another, a few workers may take all the requests).
        for path in pages.values():
            run_round(port, path, cookie, args.users, 3, [], [])
        load_before = os.getloadavg()
        # Pages take turns, round after round, so a burst of load from elsewhere on the
        # machine lands on all of them alike instead of on whichever page ran at that moment.
        lat: dict[str, list[float]] = {name: [] for name in pages}
        bad: dict[str, list[int]] = {name: [] for name in pages}
        wall = dict.fromkeys(pages, 0.0)
        per_round = max(1, args.requests // args.rounds)
        for _ in range(args.rounds):
            for name, path in pages.items():
                wall[name] += run_round(port, path, cookie, args.users, per_round, lat[name],
                                        bad[name])
        results = {name: summary(path, lat[name], bad[name], wall[name])
                   for name, path in pages.items()}
        load_after = os.getloadavg()
    finally:
        server.terminate()
        server.wait(30)

    floor = float(results["trivial view"]["p50_ms"])  # type: ignore[arg-type]
    print(f"\ngunicorn {' '.join(server_args[1:])}; page cache {'off' if args.uncached else 'on'}; "
          f"{args.users} concurrent users x "
          f"{args.requests} requests per page; {os.cpu_count()} CPUs; load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after\n")
    print(f"{'page':<17}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>8}{'p99 / trivial p50':>20}  target")
    for name, r in results.items():
        ratio = float(r["p99_ms"]) / floor if floor else float("inf")  # type: ignore[arg-type]
        r["p99_over_trivial_p50"] = round(ratio, 2)
        verdict = "" if name == "trivial view" else ("ok" if ratio <= TARGET_RATIO else "MISSED")
        print(f"{name:<17}{r['p50_ms']:>9}{r['p99_ms']:>9}{r['rps']:>8}{ratio:>20.2f}  {verdict}"
              + (f"  ({r['errors']} errors: {r['error_statuses']})" if r["errors"] else ""))
    Path(args.out).write_text(json.dumps({
        "command": "python bench/web.py " + " ".join(sys.argv[1:]),
        "server": "gunicorn " + " ".join(server_args[1:]), "users": args.users,
        "page_cache": not args.uncached,
        "requests_per_user": args.requests, "rounds": args.rounds, "cpus": os.cpu_count(),
        "load_average_before": round(load_before[0], 2), "load_average_after": round(load_after[0], 2),
        "target_p99_over_trivial_p50": TARGET_RATIO, "pages": results}, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
