"""Catalog search speed: the as-you-type htmx request over the whole template library.

Prints p50/p95 of (a) the search query alone, (b) the full htmx request (query + render), and a
baseline in the same process: a request for the login page, the cheapest page we serve.
Run: .venv/bin/python bench/catalog.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copywriter.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from copywriter.accounts.models import User  # noqa: E402
from copywriter.catalog.selectors import template_search  # noqa: E402
from copywriter.catalog.services import templates_sync  # noqa: E402
from copywriter.workspaces.models import Membership  # noqa: E402

QUERIES = ["", "email", "product description", "ad", "linkedin post", "press release", "seo meta",
           "zzz-no-match", "tiktok script", "job"]
ROUNDS = 30


def timed(fn, rounds: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    templates_sync(root=settings.TEMPLATES_LIB_DIR)
    user = User.objects.filter(email="bench@example.com").first()
    if user is None:
        from copywriter.accounts.services import user_create

        user = user_create(email="bench@example.com", password="bench pass 12345 long")
    ws = Membership.objects.filter(user=user).first().workspace_id
    client = Client()
    client.force_login(user)
    n = template_search(workspace_id=ws).count()

    query_ms, request_ms = [], []
    for q in QUERIES:
        query_ms += timed(lambda q=q: list(template_search(workspace_id=ws, q=q)), ROUNDS)
        request_ms += timed(lambda q=q: client.get(f"/w/{ws}/templates/", {"q": q},
                                                     HTTP_HX_REQUEST="true",
                                                     HTTP_HX_TARGET="template-results"), ROUNDS)
    anon = Client()
    baseline = timed(lambda: anon.get("/accounts/login/"), ROUNDS * 3)
    print(f"catalog search over {n} templates, {len(QUERIES)} queries x {ROUNDS} rounds")
    med = statistics.median
    print(f"  query only           p50 {med(query_ms):6.2f} ms  p95 {pct(query_ms, .95):6.2f} ms")
    print(f"  htmx search request  p50 {med(request_ms):6.2f} ms  p95 {pct(request_ms, .95):6.2f} ms")
    print(f"  baseline: login page p50 {med(baseline):6.2f} ms")
    print(f"  ratio search request / login page (p50): {med(request_ms) / med(baseline):.2f}x")


if __name__ == "__main__":
    main()
