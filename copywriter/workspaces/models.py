from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.OWNER: 2}


MIN_CANDIDATES, MAX_CANDIDATES = 1, 8
CLAIMS_POLICIES = [("cut", "Take the sentence out"), ("flag", "Show, marked"), ("hide", "Write again")]


class Workspace(models.Model):
    name = models.CharField(max_length=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # A variant with a claim the brief and the workspace's facts do not support: "cut" takes
    # the sentences that hold one out of long-form copy (listed on the page), and writes it
    # again once where that would leave too little; "flag" shows it with the claim marked;
    # "hide" writes it again (bounded). Both show it flagged only when every attempt had one.
    # Slot items with such a claim are never shown, whatever the policy.
    claims_policy = models.CharField(max_length=8, default="cut", choices=CLAIMS_POLICIES)
    # Best of N: each shown variant is chosen from this many written candidates. 3 by default:
    # with "cut", long-form copy with an unsupported claim fell from 28% to 9% of variants and
    # named the product in 86% instead of 61%, for 1.6x the time (docs/quality.md, session 12);
    # slot items are written 3 at a time whatever this says (GENERATION_ITEM_CANDIDATES).
    candidates = models.PositiveSmallIntegerField(default=3)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="one_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]

    @property
    def can_write(self) -> bool:
        return self.has_role(Role.EDITOR)

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER


def _token() -> str:
    return secrets.token_urlsafe(24)


class Invitation(models.Model):
    """An email invitation (``email`` set) or a shareable link (``email`` blank, many uses)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    token = models.CharField(max_length=64, unique=True, default=_token)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"invitation to {self.workspace_id} for {self.email or 'anyone with the link'}"

    @property
    def is_link(self) -> bool:
        return not self.email

    def usable(self) -> bool:
        if self.revoked_at is not None or self.expires_at <= timezone.now():
            return False
        return self.is_link or self.accepted_at is None
