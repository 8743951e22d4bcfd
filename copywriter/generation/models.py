from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from copywriter.catalog.models import Template, TemplateVersion
from copywriter.workspaces.models import Workspace


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Writing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Generation(models.Model):
    """One request: a template version + field values + tone -> N variants.

    Inputs are never modified after creation, so a failed or killed job can always be retried
    from its own row. ``lease_until`` marks a claim by a worker's batch: another delivery of the
    same job waits for the lease instead of generating a duplicate.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="generations")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="generations")
    template_version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT,
                                         related_name="generations")
    fields = models.JSONField()
    prompt = models.TextField()
    tone = models.CharField(max_length=40)
    variants = models.PositiveSmallIntegerField(default=3)
    max_new_tokens = models.PositiveSmallIntegerField(default=250)
    sampling = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    error = models.TextField(blank=True)
    error_permanent = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    queue = models.CharField(max_length=40, default="cpu")
    claimed_by = models.CharField(max_length=200, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    timings = models.JSONField(default=dict)
    # The workspace facts the writer was given and the claims check counts as support, as they
    # were when the generation was made: {"sheets": [{"id", "version", "name"}], "facts": [...],
    # "approved": [...], "banned": [...]}. Empty: the brief alone.
    facts = models.JSONField(default=dict, blank=True)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="retries")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "-created_at"]),
                   models.Index(fields=["status", "queue", "created_at"])]

    def __str__(self) -> str:
        return f"generation {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (Status.QUEUED, Status.RUNNING)


class Variant(models.Model):
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="results")
    index = models.PositiveSmallIntegerField()
    text = models.TextField(blank=True)
    tokens = models.PositiveIntegerField(default=0)
    finished = models.BooleanField(default=False)
    finish_reason = models.CharField(max_length=20, blank=True)
    rating = models.SmallIntegerField(default=0)  # -1, 0, +1
    originality = models.JSONField(null=True, blank=True)
    # Slot templates: {slot name: [item, ...]} in the template's order (``text`` is the items one
    # per line); None for long-form copy.
    slots = models.JSONField(null=True, blank=True)
    claims = models.JSONField(null=True, blank=True)  # the claims check's report
    style = models.JSONField(null=True, blank=True)  # the house style check's report
    choice = models.JSONField(null=True, blank=True)  # best of N: why this candidate was shown
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["generation", "index"], name="one_variant")]
        ordering = ["index"]

    def __str__(self) -> str:
        return f"variant {self.index} of {self.generation_id}"

