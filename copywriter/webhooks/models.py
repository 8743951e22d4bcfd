"""A workspace's webhooks, the messages sent to them and each try at sending one.

A ``Message`` is one event for one webhook: its ``uuid`` is the ``X-Copywriter-Delivery`` header
and its ``body`` the exact JSON sent, the same bytes on every try (only the timestamp and the
signature over it change), so a receiver can drop a message it already has. A ``Delivery`` is
one try: what the target answered (or why nothing was answered), and how long it took.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from copywriter.workspaces.models import Workspace


class Event(models.TextChoices):
    DOCUMENT_APPROVED = "document.approved", "A document is approved"
    DOCUMENT_PUBLISHED = "document.published", "A document is published"
    GENERATION_DONE = "generation.done", "A generation finished (done or failed)"
    BULK_RUN_DONE = "bulk_run.done", "A bulk run finished (done or cancelled)"


PING = "ping"  # the "Send test" button's event; every webhook gets it, whatever it subscribes to


class Webhook(models.Model):
    """``secret`` signs every message. It is blank for a webhook restored from a backup (backups
    never hold secrets): such a webhook sends nothing until an owner rotates its secret."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField(max_length=2000)
    events = models.JSONField(default=list)  # list of Event values
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "active"])]

    def __str__(self) -> str:
        return self.url

    @property
    def usable(self) -> bool:
        return self.active and bool(self.secret)


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Message(models.Model):
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="messages")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=40)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=MessageStatus.choices,
                              default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the next try may start. While a try is under way it is pushed past the try's longest
    # duration, so a second delivery of the same task (a redelivered job) leaves it alone.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["webhook", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.event} {self.uuid}"


class Delivery(models.Model):
    """One try at sending a message; never changed once written."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    address = models.CharField(max_length=64, blank=True)  # the address connected to
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    will_retry = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["message", "number"],
                                               name="one_delivery_per_try")]

    def __str__(self) -> str:
        return f"{self.message_id} try {self.number}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
