"""One row per thing a person (or the system) did in a workspace: who, what, when, from where.

A row stands on its own: the actor's email and the target's name are copied in when it is
written, so it still reads after the member leaves or the target is deleted. Rows are never
edited; old ones are pruned after ``AUDIT_RETENTION_DAYS``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from copywriter.workspaces.models import Workspace

ACTION_MAX = 64
LABEL_MAX = 200
SUMMARY_MAX = 500
USER_AGENT_MAX = 300


class AuditEvent(models.Model):
    # CASCADE: a deleted workspace's trail goes with it (its deletion is logged by the operator's
    # command, not here, since no row could point at it).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    actor_label = models.CharField(max_length=254, blank=True)  # email at the time; "" = system
    action = models.CharField(max_length=ACTION_MAX)  # dotted: "member.role_changed"
    target_type = models.CharField(max_length=64, blank=True)  # "documents.document"
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=LABEL_MAX, blank=True)  # str(target) at the time
    summary = models.CharField(max_length=SUMMARY_MAX, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=USER_AGENT_MAX, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "-created_at"], name="audit_ws_created"),
                   models.Index(fields=["created_at"], name="audit_created")]  # pruning
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.action}"

    @property
    def kind(self) -> str:
        """The action's first part ("member", "document", "token"): what the filter offers."""
        return self.action.split(".", 1)[0]
