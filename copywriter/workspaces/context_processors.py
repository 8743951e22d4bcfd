from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from copywriter.workspaces.selectors import memberships_for_user

NAV = {"catalog": "templates", "generation": "generate", "documents": "documents",
       "workspaces": "settings"}


def workspace(request: HttpRequest) -> dict[str, Any]:
    """The current membership and the switcher's list (both loaded by ``workspace_member`` in one
    query on workspace pages), and which navigation entry is current (from the URL's namespace)."""
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    nav = NAV.get(match.namespace, "") if match else ""
    if match and match.url_name and match.url_name.startswith("voice"):
        nav = "voice"
    if user is None or not user.is_authenticated:
        return {"membership": None, "my_workspaces": [], "nav": nav}
    mine = getattr(request, "my_workspaces", None)
    if mine is None:
        mine = memberships_for_user(user=user)
    return {"membership": membership, "my_workspaces": mine, "nav": nav}
