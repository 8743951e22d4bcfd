"""Fact sheets: what a workspace knows to be true about one product or brand, versioned.

The writer is given a sheet's facts with the brief, and the claims check counts them (and the
approved claims) as support; banned claims are never to be made. Every save is a new version and
no version changes afterwards, so a generation can say exactly which facts it was given
(``Generation.facts`` keeps the sheet ids, version numbers and the lines themselves).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from pgvector.django import VectorField

from copywriter.workspaces.models import Workspace

DIMENSIONS = 384  # copywriter.ml.embeddings (all-MiniLM-L6-v2)


def scope(workspace_id: int | None) -> str:
    """The page-cache scope of a workspace's fact sheets (names, kinds, archive state)."""
    return f"ws:{workspace_id}:facts"


class Kind(models.TextChoices):
    PRODUCT = "product", "Product"
    BRAND = "brand", "Brand"


class FactSheet(models.Model):
    """``head_number`` is the latest version's number: a save names the number it was based on,
    and a save based on anything else is refused (the user's text is kept in the form)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="fact_sheets")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PRODUCT)
    head_number = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    archived = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["workspace", "archived", "name"])]

    def __str__(self) -> str:
        return self.name


class FactSheetVersion(models.Model):
    """Immutable once written, except ``embedding``, which a worker fills in later (null until
    then: suggestions skip the sheet)."""

    sheet = models.ForeignKey(FactSheet, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    based_on = models.PositiveIntegerField(null=True, blank=True)
    name = models.CharField(max_length=120)  # the sheet's name when this version was saved
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PRODUCT)
    facts = models.JSONField(default=list)  # list[str], one fact a line
    approved = models.JSONField(default=list)  # list[str]: claims the brand may make
    banned = models.JSONField(default=list)  # list[str]: claims never to be made
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    embedding = VectorField(dimensions=DIMENSIONS, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sheet", "number"],
                                               name="fact_sheet_version_number")]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.sheet_id} v{self.number}"

    def text_for_embedding(self) -> str:
        """What suggestions compare a brief with: the name and the sheet's own lines."""
        return "\n".join([self.name, *self.facts, *self.approved])
