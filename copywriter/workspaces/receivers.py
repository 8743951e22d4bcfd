from __future__ import annotations

from typing import Any

from copywriter.core import scopes
from copywriter.workspaces.models import Membership, Workspace


def _members_of(workspace: Workspace, **kwargs: Any) -> list[str]:
    # A rename shows in every member's switcher.
    return [scopes.account(uid) for uid in
            Membership.objects.filter(workspace_id=workspace.pk).values_list("user_id", flat=True)]


def connect() -> None:
    scopes.invalidate_on(Membership, lambda m, **kw: [scopes.account(m.user_id)])
    scopes.invalidate_on(Workspace, _members_of)
