from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from copywriter.ops import health as health_checks
from copywriter.ops import selectors
from copywriter.workspaces.decorators import workspace_member
from copywriter.workspaces.models import Role
from copywriter.workspaces.types import MemberRequest

WINDOWS = (1, 24, 168)


def _hours(request: HttpRequest) -> int:
    try:
        hours = int(request.GET.get("hours", "24"))
    except ValueError:
        return 24
    return hours if hours in WINDOWS else 24


def _health_details_allowed(request: HttpRequest) -> bool:
    """Worker host names and exception text help an attacker map the deployment: staff, or a
    caller with ``HEALTH_DETAILS_TOKEN`` (monitoring), see them; anyone else the status only."""
    if getattr(request, "user", None) is not None and request.user.is_staff:
        return True
    token = settings.HEALTH_DETAILS_TOKEN
    given = request.headers.get("X-Health-Token", "")
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """No login: for load balancers and orchestrators. 200 when every check passes, else 503
    with the failed parts named. ``?quick=1``: liveness, without pinging the workers."""
    result = health_checks.health(quick=request.GET.get("quick") == "1")
    body = result.as_json() if _health_details_allowed(request) else result.as_status_json()
    return JsonResponse(body, status=200 if result.ok else 503)


@workspace_member(Role.OWNER)
@require_GET
def metrics(request: MemberRequest) -> HttpResponse:
    hours = _hours(request)
    return render(request, "ops/metrics.html", {
        "kinds": selectors.task_metrics(workspace_id=request.membership.workspace_id, hours=hours),
        "hours": hours, "windows": WINDOWS, "scope": request.membership.workspace.name})


@login_required
@require_GET
def global_metrics(request: HttpRequest) -> HttpResponse:
    """Every workspace's jobs, per queue, and the workers' health: staff only (404 otherwise,
    so the page's existence is not advertised)."""
    if not request.user.is_staff:
        raise Http404
    hours = _hours(request)
    return render(request, "ops/metrics.html", {
        "kinds": selectors.task_metrics(workspace_id=None, hours=hours), "hours": hours,
        "windows": WINDOWS, "scope": "all workspaces", "staff": True,
        "queues": selectors.queue_metrics(hours=hours),
        "busiest": selectors.busiest_workspaces(hours=hours),
        "health": health_checks.health().as_json()})


def bench_trivial(request: HttpRequest) -> HttpResponse:
    """The floor for bench/web.py: no database, no template. Mounted only with COPYWRITER_BENCH=1."""
    return HttpResponse(b"ok", content_type="text/plain")
