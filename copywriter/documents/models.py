from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from copywriter.workspaces.models import Workspace


class Document(models.Model):
    """A shared document. Its text lives in versions; ``head`` is the current one.

    ``head_number`` is the optimistic-concurrency token: a save names the number it was based on,
    and a save based on anything but the head is a conflict, never an overwrite.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)  # the head version's text, denormalised for list/search
    head_number = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "deleted_at", "-updated_at"])]

    def __str__(self) -> str:
        return self.title


class VersionKind(models.TextChoices):
    EDIT = "edit", "Edit"
    CREATE = "create", "Created"
    RESTORE = "restore", "Restored"
    GENERATION = "generation", "From a generation"
    CONFLICT = "conflict", "Conflicting save (kept)"
    IMPORT = "import", "Imported"


class DocumentVersion(models.Model):
    """Immutable. Conflict versions keep a stale save's text without becoming the head."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    based_on = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=12, choices=VersionKind.choices, default=VersionKind.EDIT)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="version_number")]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.document_id} v{self.number}"
