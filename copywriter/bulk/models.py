from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from copywriter.catalog.models import Template, TemplateVersion
from copywriter.generation.models import Generation
from copywriter.workspaces.models import Workspace


class RunStatus(models.TextChoices):
    DRAFT = "draft", "Mapping columns"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    CANCELLED = "cancelled", "Cancelled"
    DONE = "done", "Done"


class RowStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    QUEUED = "queued", "Writing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    INVALID = "invalid", "Invalid input"
    SKIPPED = "skipped", "Skipped"


class BulkRun(models.Model):
    """One uploaded file, run row by row through the generation queue.

    Every row of the file is stored in a ``BulkRow`` at upload time, so the run never needs the
    file again. ``mapping`` maps a template field name to a column index of ``header``.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="bulk_runs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="bulk_runs")
    template_version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT,
                                         related_name="bulk_runs")
    tone = models.CharField(max_length=40)
    length = models.CharField(max_length=10, default="medium")
    mapping = models.JSONField(default=dict)
    # The fact sheets given to every row, as chosen when the run was made (the snapshot that
    # each row's Generation.facts stores); {} for none.
    facts = models.JSONField(default=dict, blank=True)
    header = models.JSONField(default=list)
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=5)  # csv | xlsx
    file_notes = models.JSONField(default=list)  # file-level warnings (encoding, delimiter)
    source_hash = models.CharField(max_length=64, blank=True, db_index=True)
    cli_output = models.CharField(max_length=1000, blank=True)
    local = models.BooleanField(default=False)  # rows run in the command's own process
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.DRAFT,
                              db_index=True)
    notice = models.CharField(max_length=300, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    in_flight = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)  # last row that finished
    kicked_at = models.DateTimeField(null=True, blank=True)  # last re-publish of stalled jobs

    class Meta:
        indexes = [models.Index(fields=["workspace", "-created_at"])]

    def __str__(self) -> str:
        return f"bulk run {self.pk} ({self.status})"

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.done - self.failed - self.invalid - self.skipped)

    @property
    def is_active(self) -> bool:
        return self.status == RunStatus.RUNNING or self.in_flight > 0


class BulkRow(models.Model):
    """One row of the file: its cells verbatim, the template fields taken from them, and the
    outcome. A row has at most one live generation (``generation``); a regeneration replaces it."""

    run = models.ForeignKey(BulkRun, on_delete=models.CASCADE, related_name="rows")
    index = models.PositiveIntegerField()  # 1-based data row number (the header is row 0)
    values = models.JSONField(default=list)  # every cell, aligned with run.header
    fields = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=RowStatus.choices, default=RowStatus.PENDING,
                              db_index=True)
    error = models.TextField(blank=True)
    generation = models.ForeignKey(Generation, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="bulk_rows")
    result_text = models.TextField(blank=True)
    edited = models.BooleanField(default=False)
    originality = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="bulk_row_index")]
        indexes = [models.Index(fields=["run", "status", "index"])]
        ordering = ["index"]

    def __str__(self) -> str:
        return f"row {self.index} of run {self.run_id}"

    @property
    def verdict(self) -> str:
        return (self.originality or {}).get("verdict") or ""
