"""A document's review and approval: its state, the review requests, the comments, the
workspace's rules and each member's notification choices. The transitions are all in
``services.py``; nothing else writes ``DocumentState``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from copywriter.documents.models import Document
from copywriter.workspaces.models import Workspace


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"


class Approvers(models.TextChoices):
    OWNERS = "owners", "Owners"
    REVIEWERS = "reviewers", "Named reviewers"


class WorkflowSettings(models.Model):
    """One row per workspace, made on first change; a workspace without one has the defaults."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE,
                                     related_name="workflow_settings")
    approvers = models.CharField(max_length=10, choices=Approvers.choices,
                                 default=Approvers.OWNERS)
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    publish_needs_approval = models.BooleanField(default=True)
    approval_needs_clean_style = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"workflow settings of {self.workspace_id}"


class DocumentState(models.Model):
    """The state of a document (no row: draft). ``version`` is the version the state is about
    (the one in review, approved or published); ``approved_version`` and ``published_version``
    are the last ones approved and published: they stay readable and exportable whatever the
    document's later versions do (versions are never changed or deleted)."""

    document = models.OneToOneField(Document, on_delete=models.CASCADE, primary_key=True,
                                    related_name="workflow_state")
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    version = models.PositiveIntegerField(null=True, blank=True)
    approved_version = models.PositiveIntegerField(null=True, blank=True)
    published_version = models.PositiveIntegerField(null=True, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.document_id}: {self.state}"


class Decision(models.TextChoices):
    PENDING = "", "Waiting"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"


class ReviewRequest(models.Model):
    """One named member asked to review one version; decided by their (or another approver's)
    approval or request for changes."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE,
                                 related_name="review_requests")
    version = models.PositiveIntegerField()
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(max_length=20, choices=Decision.choices, default="", blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["reviewer", "decided_at"])]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"review of {self.document_id} v{self.version} by {self.reviewer_id}"


class Comment(models.Model):
    """A comment on a document, kept with the version it was made on; with ``quote`` (and its
    offsets in that version's text) it is about a passage. Replies name their ``parent``."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="comments")
    version = models.PositiveIntegerField()
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               related_name="+")
    body = models.TextField()
    quote = models.TextField(blank=True)
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.document_id} v{self.version}"


class NotificationPreference(models.Model):
    """A member's email choices (no row: every kind on)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="workflow_notifications")
    review_requested = models.BooleanField(default=True)
    decisions = models.BooleanField(default=True)
    mentions = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"notifications of {self.user_id}"
