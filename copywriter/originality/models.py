from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from pgvector.django import HnswIndex, VectorField

from copywriter.documents.models import Document
from copywriter.generation.models import Generation
from copywriter.originality.text import Thresholds
from copywriter.workspaces.models import Workspace

DIMENSIONS = 384


class SourceKind(models.TextChoices):
    DOCUMENT = "document", "Document"
    VARIANT = "variant", "Generated variant"
    REFERENCE = "reference", "Reference text"


class ReferenceItem(models.Model):
    """A text to compare against that is not a document: a competitor's page, a brand's old
    campaign, a style guide. ``workspace`` is null for the global corpus an admin loads with
    ``import_corpus`` (every workspace is compared against it, none can change it)."""

    workspace = models.ForeignKey(Workspace, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="reference_items")
    title = models.CharField(max_length=200)
    text = models.TextField()
    # The file it was imported from; re-importing the same file updates the item.
    source_name = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    indexed_at = models.DateTimeField(null=True, blank=True)
    index_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "source_name"],
                                               condition=~Q(source_name=""), nulls_distinct=False,
                                               name="one_reference_per_file")]
        indexes = [models.Index(fields=["workspace", "-created_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_global(self) -> bool:
        return self.workspace_id is None

    @property
    def is_indexed(self) -> bool:
        return self.indexed_at is not None and self.indexed_at >= self.updated_at


class Passage(models.Model):
    """A sentence or a window of 2-3 sentences of a source text, with its embedding.

    ``workspace`` scopes every search (null only for the global reference corpus); the source
    is a document version, a generation's variant or a reference item, and ``start``/``end`` are
    character offsets into that source's text, so a match points at a span.
    """

    workspace = models.ForeignKey(Workspace, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+")
    kind = models.CharField(max_length=10, choices=SourceKind.choices)
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    document_version = models.PositiveIntegerField(null=True, blank=True)
    generation = models.ForeignKey(Generation, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="+")
    variant_index = models.PositiveSmallIntegerField(null=True, blank=True)
    reference = models.ForeignKey(ReferenceItem, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="passages")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()
    embedding = VectorField(dimensions=DIMENSIONS)

    class Meta:
        indexes = [HnswIndex(name="passage_embedding_hnsw", fields=["embedding"], m=16,
                             ef_construction=64, opclasses=["vector_cosine_ops"])]
        constraints = [
            models.CheckConstraint(
                name="passage_source_matches_kind",
                condition=(Q(kind="document", document__isnull=False, document_version__isnull=False,
                             generation__isnull=True, reference__isnull=True,
                             workspace__isnull=False)
                           | Q(kind="variant", generation__isnull=False, variant_index__isnull=False,
                               document__isnull=True, reference__isnull=True,
                               workspace__isnull=False)
                           | Q(kind="reference", reference__isnull=False, document__isnull=True,
                               generation__isnull=True))),
            models.CheckConstraint(name="passage_span", condition=Q(end__gte=models.F("start"))),
        ]

    def __str__(self) -> str:
        return f"{self.kind} passage {self.start}-{self.end}"


class Regenerate(models.TextChoices):
    ANY = "any", "Any flag (copy or paraphrase)"
    COPY = "copy", "Copy flags only"
    OFF = "off", "Never: show the flag and the evidence"


class OriginalitySettings(models.Model):
    """A workspace's thresholds and what happens to a flagged variant. A workspace without a row
    uses the defaults (``Thresholds()``), chosen from measurements in docs/originality.md."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE,
                                     related_name="originality_settings")
    paraphrase_threshold = models.FloatField(default=Thresholds.paraphrase)
    copy_threshold = models.FloatField(default=Thresholds.copy_overlap)
    check_generations = models.BooleanField(default=True)
    regenerate = models.CharField(max_length=4, choices=Regenerate.choices, default=Regenerate.ANY)
    max_regenerations = models.PositiveSmallIntegerField(default=2)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"originality settings of {self.workspace_id}"

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(paraphrase=self.paraphrase_threshold, copy_overlap=self.copy_threshold)


class CheckStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Checking"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class OriginalityCheck(models.Model):
    """An on-demand check of a document version, run by a worker and polled by the page."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    document_version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=CheckStatus.choices, default=CheckStatus.QUEUED)
    report = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["document", "-created_at"])]

    def __str__(self) -> str:
        return f"check {self.pk} of document {self.document_id} v{self.document_version}"

    @property
    def is_active(self) -> bool:
        return self.status in (CheckStatus.QUEUED, CheckStatus.RUNNING)
