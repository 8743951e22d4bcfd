from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from copywriter.webhooks.models import Delivery, Message, Webhook


def webhooks_for_workspace(*, workspace_id: int) -> QuerySet[Webhook]:
    return Webhook.objects.filter(workspace_id=workspace_id).order_by("created_at", "pk")


def webhook_get(*, workspace_id: int, webhook_id: int) -> Webhook:
    """The webhook if it belongs to the workspace (404 otherwise, also for another's ids)."""
    return get_object_or_404(Webhook, workspace_id=workspace_id, pk=webhook_id)


def recent_messages(*, webhook: Webhook, limit: int = 50) -> list[Message]:
    """The delivery log: the latest messages, each with its tries, newest first."""
    return list(Message.objects.filter(webhook=webhook).order_by("-created_at", "-pk")
                .prefetch_related(Prefetch("deliveries", queryset=Delivery.objects.order_by(
                    "-number")))[:limit])
