from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from copywriter.workspaces.models import Role, Workspace


class ApiToken(models.Model):
    """A per-workspace API token. Only the sha256 of the secret is stored: the secret is shown
    once, when the token is made, and cannot be shown again.

    ``role`` is a cap fixed at creation (at most the creator's role then). Every request is
    allowed the lower of that cap and the creator's role *now*: a creator who is demoted limits
    their tokens, and one who leaves or is removed makes them stop working (401).
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="api_tokens")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    secret_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["workspace", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}\u2026)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
