from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def workspace(request: HttpRequest) -> dict[str, Any]:
    """The current membership (set by ``workspace_member``) and the switcher's list."""
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"membership": None, "my_workspaces": []}
    from copywriter.workspaces.selectors import memberships_for_user

    return {"membership": membership, "my_workspaces": memberships_for_user(user=user)}
