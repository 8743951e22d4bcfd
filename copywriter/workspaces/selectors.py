from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from copywriter.accounts.models import User
from copywriter.core import scopes
from copywriter.workspaces.models import Invitation, Membership


def memberships_for_user(*, user: User) -> list[Membership]:
    return list(Membership.objects.filter(user=user).select_related("workspace")
                .order_by("workspace__name", "workspace_id"))


def membership_and_all(*, user: User, workspace_id: int) -> tuple[Membership, list[Membership]]:
    """The caller's membership in ``workspace_id`` and all of the caller's memberships, for the
    switcher, in one query, kept per process until a membership or workspace of the user's
    changes (``scopes.account``). 404 for a non-member: they learn nothing about the
    workspace."""
    mine = scopes.remembered("memberships", [scopes.account(user.pk)],
                             lambda: memberships_for_user(user=user))
    for m in mine:
        if m.workspace_id == workspace_id:
            return m, mine
    raise Http404("No such workspace")


def members_of(*, workspace_id: int) -> QuerySet[Membership]:
    return Membership.objects.filter(workspace_id=workspace_id).select_related("user").order_by(
        "created_at")


def open_invitations(*, workspace_id: int) -> QuerySet[Invitation]:
    """Unrevoked, unexpired invitations; email ones until accepted, links until they expire."""
    from django.db.models import Q
    from django.utils import timezone

    return Invitation.objects.filter(
        Q(accepted_at__isnull=True) | Q(email=""), workspace_id=workspace_id,
        revoked_at__isnull=True, expires_at__gt=timezone.now()).select_related(
        "created_by").order_by("-created_at")
