"""Managing webhooks (owners only) and sending their messages.

An event becomes one ``Message`` per active webhook of the workspace that subscribes to it
(``emit``), published on commit to the ``webhooks.deliver`` task by id (``enqueue``). The task
makes one try (``attempt``) and, when the try may pass later (a 5xx, 408 or 429 answer, a
timeout, no connection), publishes itself again after a backoff that doubles each time, up to
``WEBHOOK_MAX_ATTEMPTS`` tries. A 2xx answer delivers the message; any other answer (a 4xx, a
redirect, which is never followed) or a refused target (SSRF) fails it at once.

Every message is signed: ``X-Copywriter-Signature: sha256=<hex>`` is the HMAC-SHA256, keyed
with the webhook's secret, of ``"<X-Copywriter-Timestamp>.<body>"`` (``sign``); a receiver
recomputes it, compares in constant time and drops messages whose timestamp is too old.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from copywriter.audit.services import record
from copywriter.celery import app
from copywriter.core.errors import UserError
from copywriter.webhooks import net
from copywriter.webhooks.models import PING, Delivery, Event, Message, MessageStatus, Webhook
from copywriter.workspaces.models import Membership, Workspace

log = logging.getLogger(__name__)

DELIVER_TASK = "webhooks.deliver"
SECRET_PREFIX = "whsec_"
USER_AGENT = "Copywriter-Webhooks/1"
# Messages kept per webhook for its delivery log; older ones are dropped as new ones come.
LOG_MESSAGES = 100
# Answers that mean "try again later"; every other non-2xx answer fails the message at once.
RETRY_STATUSES = {408, 429}


class WebhookError(UserError):
    """``field_errors`` name the form fields at fault."""


@functools.lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> list[net.Network]:
    try:
        return net.networks(values)
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from None


def allowed_networks() -> list[net.Network]:
    return _networks(tuple(settings.WEBHOOK_ALLOWED_NETWORKS))


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Copywriter-Signature`` header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


# --- managing webhooks -------------------------------------------------------------------------

def _check_owner(membership: Membership) -> None:
    if not membership.is_owner:
        raise WebhookError("Only the workspace's owners manage its webhooks.", status=403)


def check_url(url: str) -> str:
    """The URL, stripped, if a webhook may send to it now; ``WebhookError`` says why not."""
    try:
        net.check(url, allowed_networks())
    except net.Refused as exc:
        raise WebhookError(str(exc), field_errors={"url": str(exc)}) from None
    except net.Unreachable as exc:
        message = f"{exc} Check the URL: we look the host up before saving it."
        raise WebhookError(message, field_errors={"url": message}) from None
    return url.strip()


def check_events(values: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(values))
    unknown = [v for v in chosen if v not in Event.values]
    if unknown:
        message = (f"Unknown event {', '.join(repr(str(v)[:40]) for v in unknown)}; choose from "
                   f"{', '.join(Event.values)}.")
        raise WebhookError(message, field_errors={"events": message})
    if not chosen:
        message = "Choose at least one event to send."
        raise WebhookError(message, field_errors={"events": message})
    return [v for v in Event.values if v in chosen]  # a stable order, as listed


def webhook_create(*, membership: Membership, url: str, events: Iterable[str],
                   active: bool = True) -> tuple[Webhook, str]:
    """A new webhook and its secret: the only time the secret is handed out, apart from a
    rotation. Everything is checked before anything is stored."""
    _check_owner(membership)
    url = check_url(url)
    chosen = check_events(events)
    with transaction.atomic():
        # Serialise one workspace's creations, so two at once cannot both pass the count.
        Workspace.objects.select_for_update().filter(pk=membership.workspace_id).first()
        count = Webhook.objects.filter(workspace_id=membership.workspace_id).count()
        if count >= settings.WEBHOOKS_PER_WORKSPACE:
            raise WebhookError(f"This workspace has {count} webhooks, the most it can keep "
                               f"({settings.WEBHOOKS_PER_WORKSPACE}). Delete one you no longer "
                               "use.")
        secret, now = new_secret(), timezone.now()
        hook = Webhook.objects.create(workspace_id=membership.workspace_id, url=url,
                                      events=chosen, active=active, secret=secret,
                                      created_by=membership.user, created_at=now, updated_at=now,
                                      secret_rotated_at=now)
        record(workspace=membership.workspace, actor=membership.user, action="webhook.created",
               target=hook, summary=f"added a webhook to {hook.url}",
               details={"url": hook.url, "events": chosen, "active": active})
    return hook, secret


def _locked(membership: Membership, webhook_id: int) -> Webhook:
    hook = (Webhook.objects.select_for_update()
            .filter(pk=webhook_id, workspace_id=membership.workspace_id).first())
    if hook is None:
        raise WebhookError("No such webhook in this workspace.", status=404)
    return hook


def webhook_update(*, membership: Membership, webhook_id: int, url: str, events: Iterable[str],
                   active: bool) -> Webhook:
    _check_owner(membership)
    url = check_url(url)
    chosen = check_events(events)
    with transaction.atomic():
        hook = _locked(membership, webhook_id)
        before = {"url": hook.url, "events": hook.events, "active": hook.active}
        after = {"url": url, "events": chosen, "active": active}
        if before == after:
            return hook
        hook.url, hook.events, hook.active, hook.updated_at = url, chosen, active, timezone.now()
        hook.save(update_fields=["url", "events", "active", "updated_at"])
        record(workspace=membership.workspace, actor=membership.user, action="webhook.updated",
               target=hook, summary=f"changed the webhook to {hook.url}",
               details={"before": before, "after": after})
    return hook


def webhook_delete(*, membership: Membership, webhook_id: int) -> None:
    """The webhook and its delivery log; messages not sent yet are dropped with it."""
    _check_owner(membership)
    with transaction.atomic():
        hook = _locked(membership, webhook_id)
        record(workspace=membership.workspace, actor=membership.user, action="webhook.deleted",
               target=hook, summary=f"deleted the webhook to {hook.url}",
               details={"url": hook.url, "events": hook.events})
        hook.delete()


def webhook_rotate_secret(*, membership: Membership, webhook_id: int) -> tuple[Webhook, str]:
    """A new secret, from now on: messages already queued are signed with it when they go."""
    _check_owner(membership)
    with transaction.atomic():
        hook = _locked(membership, webhook_id)
        secret, now = new_secret(), timezone.now()
        hook.secret, hook.secret_rotated_at, hook.updated_at = secret, now, now
        hook.save(update_fields=["secret", "secret_rotated_at", "updated_at"])
        record(workspace=membership.workspace, actor=membership.user,
               action="webhook.secret_rotated", target=hook,
               summary=f"rotated the secret of the webhook to {hook.url}")
    return hook, secret


def webhook_send_test(*, membership: Membership, webhook_id: int) -> Message:
    """A ``ping`` message to this webhook alone, whatever its events, active or not."""
    _check_owner(membership)
    hook = Webhook.objects.filter(pk=webhook_id, workspace_id=membership.workspace_id).first()
    if hook is None:
        raise WebhookError("No such webhook in this workspace.", status=404)
    if not hook.secret:
        raise WebhookError("This webhook has no secret (it was restored from a backup, which "
                           "never holds secrets): rotate its secret first.", status=409)
    with transaction.atomic():
        message = _message(hook, PING, {"message": "A test event from Copywriter: your endpoint "
                                                   "is reachable and can check signatures.",
                                        "webhook": {"id": hook.pk, "url": hook.url},
                                        "requested_by": person(membership.user)})
        enqueue(message.pk)
    return message


# --- sending -----------------------------------------------------------------------------------

def person(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.email}


def _message(hook: Webhook, event: str, data: dict[str, Any]) -> Message:
    message = Message(webhook=hook, event=event, next_attempt_at=timezone.now())
    payload = {"id": str(message.uuid), "event": event,
               "created_at": message.created_at.isoformat(),
               "workspace": {"id": hook.workspace_id, "name": hook.workspace.name},
               "data": data}
    message.body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    message.save()
    stale = list(Message.objects.filter(webhook=hook).order_by("-created_at", "-pk")
                 .values_list("pk", flat=True)[LOG_MESSAGES:LOG_MESSAGES + 500])
    if stale:
        Message.objects.filter(pk__in=stale).delete()
    return message


def emit(*, workspace_id: int, event: str, data: dict[str, Any]) -> list[Message]:
    """One message for each active webhook of the workspace that subscribes to ``event``,
    queued on commit. A webhook without a secret (restored) is skipped: it cannot sign."""
    hooks = list(Webhook.objects.filter(workspace_id=workspace_id, active=True,
                                        events__contains=[event]).exclude(secret="")
                 .select_related("workspace"))
    out = []
    with transaction.atomic():
        for hook in hooks:
            message = _message(hook, event, data)
            enqueue(message.pk)
            out.append(message)
    return out


def enqueue(message_id: int, *, countdown: float = 0) -> None:
    """Publish the delivery task by name, once the message row is committed."""
    transaction.on_commit(lambda: app.send_task(
        DELIVER_TASK, args=[message_id], countdown=countdown or None,
        queue=settings.WEBHOOK_QUEUE))


def backoff(attempt: int) -> int:
    """Seconds to wait after try number ``attempt`` failed: base, 2 x base, 4 x base, ..."""
    return settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt - 1)


@dataclass(frozen=True)
class Outcome:
    status: str  # a MessageStatus, or "skipped" when there was nothing to do
    retry_in: int | None = None  # seconds, when another try is due


def _claim(message_id: int) -> tuple[Message, int] | None:
    """Take the next try of a pending message that is due, or ``None``: gone, finished, not due
    yet, or another delivery of the task is on it now (its lease, ``next_attempt_at``, runs)."""
    now = timezone.now()
    with transaction.atomic():
        message = (Message.objects.select_for_update().select_related("webhook")
                   .filter(pk=message_id).first())
        if message is None or message.status != MessageStatus.PENDING:
            return None
        if message.next_attempt_at is not None and message.next_attempt_at > now + timedelta(
                seconds=1):
            return None
        message.attempts += 1
        lease = 3 * settings.WEBHOOK_TIMEOUT_SECONDS + 30  # connect + read, up to 3 addresses
        message.next_attempt_at = now + timedelta(seconds=lease)
        message.save(update_fields=["attempts", "next_attempt_at"])
    return message, message.attempts


def _finish(message: Message, status: str) -> None:
    Message.objects.filter(pk=message.pk).update(status=status, finished_at=timezone.now(),
                                                 next_attempt_at=None)


def attempt(*, message_id: int) -> Outcome:
    """One try at sending a message, recorded as a ``Delivery``. Idempotent: a second delivery
    of the same task while a try runs, or after the message finished, does nothing."""
    claimed = _claim(message_id)
    if claimed is None:
        return Outcome("skipped")
    message, number = claimed
    hook = message.webhook
    started = timezone.now()
    body = message.body.encode()
    delivery = Delivery(message=message, number=number, started_at=started)
    retry = False
    if not hook.secret:
        delivery.error = ("The webhook has no secret (restored from a backup): rotate its secret, "
                          "then send again.")
    else:
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "X-Copywriter-Event": message.event,
                   "X-Copywriter-Delivery": str(message.uuid),
                   "X-Copywriter-Timestamp": timestamp,
                   "X-Copywriter-Signature": sign(secret=hook.secret, timestamp=timestamp,
                                                  body=body)}
        clock = time.monotonic()
        try:
            answer = net.post(hook.url, body, headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                              allowed=allowed_networks())
        except net.Refused as exc:
            delivery.error = str(exc)[:500]
        except net.Unreachable as exc:
            delivery.error, retry = str(exc)[:500], True
        else:
            delivery.status_code, delivery.address = answer.status, answer.address
            delivery.response_excerpt = answer.excerpt[:500]
            if 300 <= answer.status < 400:
                delivery.error = "Redirects are not followed: give the webhook its final URL."
            retry = answer.status >= 500 or answer.status in RETRY_STATUSES
        delivery.duration_ms = int((time.monotonic() - clock) * 1000)
    retry = retry and number < settings.WEBHOOK_MAX_ATTEMPTS
    delivery.will_retry = retry
    delivery.save()
    if delivery.ok:
        _finish(message, MessageStatus.DELIVERED)
        return Outcome(MessageStatus.DELIVERED)
    if retry:
        wait = backoff(number)
        Message.objects.filter(pk=message.pk).update(
            next_attempt_at=timezone.now() + timedelta(seconds=wait))
        return Outcome(MessageStatus.PENDING, retry_in=wait)
    _finish(message, MessageStatus.FAILED)
    return Outcome(MessageStatus.FAILED)
