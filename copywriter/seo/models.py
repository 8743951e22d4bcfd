from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from copywriter.documents.models import Document
from copywriter.generation.models import Generation
from copywriter.workspaces.models import Workspace


class KeywordList(models.Model):
    """A named keyword list any member of the workspace can load into a panel."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="keyword_lists")
    name = models.CharField(max_length=80)
    keywords = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"],
                                               name="keyword_list_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DocumentKeywords(models.Model):
    """A document's target keywords, and the tone its text was written in when known (the
    enrichment rewrites in that tone)."""

    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="seo")
    keywords = models.JSONField(default=list)
    tone = models.CharField(max_length=40, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"keywords of document {self.document_id}"


class EnrichmentStatus(models.TextChoices):
    OPEN = "open", "Waiting for a decision"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    CONFLICT = "conflict", "Kept as a conflict copy"


class Enrichment(models.Model):
    """One "Enrich" request: the copy as it was, the keywords to weave in, and the generation
    that rewrites it (a normal job: batched, streamed, checked for originality).

    The source is a document version (``document`` + ``base_number``, the concurrency token the
    accept passes on) or a generation variant (``source_generation`` + ``source_index``: variants
    are rewritten whole when a job finishes, so their ids are not stable).
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="enrichments")
    base_number = models.PositiveIntegerField(null=True, blank=True)
    source_generation = models.ForeignKey(Generation, null=True, blank=True,
                                          on_delete=models.CASCADE, related_name="enrichments")
    source_index = models.PositiveSmallIntegerField(null=True, blank=True)
    source_text = models.TextField()
    title = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20, default="auto")
    keywords = models.JSONField(default=list)
    missing = models.JSONField(default=list)
    tone = models.CharField(max_length=40)
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=EnrichmentStatus.choices,
                              default=EnrichmentStatus.OPEN)
    chosen_index = models.PositiveSmallIntegerField(null=True, blank=True)
    result_document = models.ForeignKey(Document, null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    result_number = models.PositiveIntegerField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "-created_at"])]

    def __str__(self) -> str:
        return f"enrichment {self.pk} ({self.status})"
