"""The workspace's activity, for its owners: a filtered list and the same list as CSV."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from copywriter.audit import selectors, services
from copywriter.workspaces.decorators import workspace_member
from copywriter.workspaces.models import Role
from copywriter.workspaces.types import MemberRequest

PER_PAGE = 50


def _filters(request: MemberRequest) -> tuple[selectors.Filters, str]:
    try:
        return selectors.parse_filters(request.GET.dict()), ""
    except selectors.FilterError as exc:
        return selectors.Filters(), str(exc)


@workspace_member(Role.OWNER)
@require_GET
def activity(request: MemberRequest) -> HttpResponse:
    ws = request.membership.workspace_id
    filters, error = _filters(request)
    # A filter that cannot be read shows nothing rather than everything: the owner asked for less.
    events = (selectors.events_for_workspace(workspace_id=ws, filters=filters) if not error
              else selectors.events_for_workspace(workspace_id=ws).none())
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    kinds, actors = selectors.choices_for_workspace(workspace_id=ws)
    query = urlencode(filters.as_query())
    return render(request, "audit/activity.html", {
        "page": page, "filters": filters, "error": error, "kinds": kinds, "actors": actors,
        "query": query, "raw": {k: request.GET.get(k, "")[:254] for k in
                                ("kind", "actor", "from", "to", "q")},
        "nav": "settings"}, status=400 if error else 200)


@workspace_member(Role.OWNER)
@require_GET
def export(request: MemberRequest) -> HttpResponse:
    membership = request.membership
    filters, error = _filters(request)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    events = selectors.events_for_workspace(workspace_id=membership.workspace_id, filters=filters)
    count = events.count()
    # Recorded before the rows are read: the export is part of the trail it exports.
    services.record(workspace=membership.workspace, actor=request.user, action="audit.exported",
                    summary=f"exported {count} activity events as CSV",
                    details={"filters": filters.as_query(), "rows": count})
    body = services.to_csv(events)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (f'attachment; filename="activity-{membership.workspace_id}'
                                       f'-{stamp}.csv"')
    response["Cache-Control"] = "no-store"
    return response
