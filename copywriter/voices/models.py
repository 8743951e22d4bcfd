from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from copywriter.workspaces.models import Workspace


class BrandVoice(models.Model):
    """A workspace's own LoRA adapter trained from its samples; a tone for that workspace only."""

    STATUSES = [("draft", "Draft"), ("queued", "Queued"), ("training", "Training"),
                ("ready", "Ready"), ("failed", "Failed"), ("cancelled", "Cancelled")]
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="voices")
    name = models.CharField(max_length=80)
    samples = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=STATUSES, default="draft")
    progress_step = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    last_loss = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    metrics = models.JSONField(default=dict)
    adapter_path = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The table generation made when voices lived there: moving the model kept the rows.
        db_table = "generation_brandvoice"

    def __str__(self) -> str:
        return self.name
