"""Owners' pages: the workspace's webhooks, one webhook with its delivery log. Every view needs
the owner role (``workspace_member(Role.OWNER)``): a target URL and its log are the owners'
business, and the services check again."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from copywriter.webhooks import selectors, services
from copywriter.webhooks.models import Event, MessageStatus, Webhook
from copywriter.workspaces.decorators import workspace_member
from copywriter.workspaces.models import Role
from copywriter.workspaces.types import MemberRequest

owner = workspace_member(Role.OWNER, write_methods_need=Role.OWNER)


def _form_values(request: MemberRequest) -> dict[str, Any]:
    return {"url": request.POST.get("url", ""), "events": request.POST.getlist("events"),
            "active": request.POST.get("active") == "on"}


@owner
@require_http_methods(["GET", "POST"])
def webhook_list(request: MemberRequest) -> HttpResponse:
    """The webhooks and a form to add one. A new webhook's secret is shown on the answer to the
    POST that made it, once; only rotating it shows a secret again."""
    ws = request.membership.workspace_id
    values: dict[str, Any] = {"url": "", "events": [Event.DOCUMENT_PUBLISHED], "active": True}
    error, field_errors, status = "", {}, 200
    made: Webhook | None = None
    secret = ""
    if request.method == "POST":
        values = _form_values(request)
        try:
            made, secret = services.webhook_create(membership=request.membership, **values)
        except services.WebhookError as exc:
            error, field_errors, status = exc.message, exc.field_errors, exc.status
        else:
            values = {"url": "", "events": [Event.DOCUMENT_PUBLISHED], "active": True}
    return render(request, "webhooks/list.html", {
        "webhooks": selectors.webhooks_for_workspace(workspace_id=ws), "values": values,
        "error": error, "field_errors": field_errors, "events": Event.choices, "made": made,
        "secret": secret, "nav": "settings"}, status=status)


@owner
@require_http_methods(["GET", "POST"])
def detail(request: MemberRequest, webhook_id: int) -> HttpResponse:
    ws = request.membership.workspace_id
    hook = selectors.webhook_get(workspace_id=ws, webhook_id=webhook_id)
    values: dict[str, Any] = {"url": hook.url, "events": hook.events, "active": hook.active}
    error, field_errors, status = "", {}, 200
    if request.method == "POST":
        values = _form_values(request)
        try:
            services.webhook_update(membership=request.membership, webhook_id=hook.pk, **values)
        except services.WebhookError as exc:
            error, field_errors, status = exc.message, exc.field_errors, exc.status
        else:
            messages.success(request, "Saved the webhook.")
            return redirect("webhooks:detail", ws=ws, webhook_id=hook.pk)
    return _detail(request, hook, values=values, error=error, field_errors=field_errors,
                   status=status)


def _detail(request: MemberRequest, hook: Webhook, *, values: dict[str, Any] | None = None,
            error: str = "", field_errors: dict[str, str] | None = None, status: int = 200,
            secret: str = "") -> HttpResponse:
    log = selectors.recent_messages(webhook=hook)
    pending = any(m.status == MessageStatus.PENDING for m in log)
    if request.htmx and request.GET.get("part") == "log":
        return render(request, "webhooks/detail.html#log", {"hook": hook, "log": log,
                                                             "pending": pending})
    return render(request, "webhooks/detail.html", {
        "hook": hook, "values": values or {"url": hook.url, "events": hook.events,
                                           "active": hook.active},
        "error": error, "field_errors": field_errors or {}, "events": Event.choices,
        "secret": secret, "log": log, "pending": pending, "nav": "settings"},
        status=status)


@owner
@require_POST
def delete(request: MemberRequest, webhook_id: int) -> HttpResponse:
    ws = request.membership.workspace_id
    hook = selectors.webhook_get(workspace_id=ws, webhook_id=webhook_id)
    try:
        services.webhook_delete(membership=request.membership, webhook_id=hook.pk)
    except services.WebhookError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Deleted the webhook to {hook.url}.")
    return redirect("webhooks:list", ws=ws)


@owner
@require_POST
def rotate(request: MemberRequest, webhook_id: int) -> HttpResponse:
    """A new secret, shown on this answer only; the old one stops signing at once."""
    ws = request.membership.workspace_id
    hook = selectors.webhook_get(workspace_id=ws, webhook_id=webhook_id)
    try:
        hook, secret = services.webhook_rotate_secret(membership=request.membership,
                                                      webhook_id=hook.pk)
    except services.WebhookError as exc:
        messages.error(request, exc.message)
        return redirect("webhooks:detail", ws=ws, webhook_id=hook.pk)
    return _detail(request, hook, secret=secret)


@owner
@require_POST
def send_test(request: MemberRequest, webhook_id: int) -> HttpResponse:
    ws = request.membership.workspace_id
    hook = selectors.webhook_get(workspace_id=ws, webhook_id=webhook_id)
    try:
        message = services.webhook_send_test(membership=request.membership, webhook_id=hook.pk)
    except services.WebhookError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Sent a test event ({message.uuid}); its tries appear in the "
                                  "delivery log below.")
    return redirect("webhooks:detail", ws=ws, webhook_id=hook.pk)
