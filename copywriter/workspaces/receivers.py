from __future__ import annotations

from typing import Any

from copywriter.accounts.models import User
from copywriter.accounts.signals import user_created
from copywriter.core import scopes
from copywriter.workspaces.models import Membership, Workspace
from copywriter.workspaces.services import workspace_create


def _first_workspace(sender: Any, user: User, **kwargs: Any) -> None:
    """Every account starts with a workspace of its own, made in the sign-up's transaction."""
    workspace_create(owner=user, name=f"{user.display_name}'s workspace")


def _members_of(workspace: Workspace, **kwargs: Any) -> list[str]:
    # A rename shows in every member's switcher.
    return [scopes.account(uid) for uid in
            Membership.objects.filter(workspace_id=workspace.pk).values_list("user_id", flat=True)]


def connect() -> None:
    user_created.connect(_first_workspace, dispatch_uid="workspaces-first-workspace")
    scopes.invalidate_on(Membership, lambda m, **kw: [scopes.account(m.user_id)])
    scopes.invalidate_on(Workspace, _members_of)
