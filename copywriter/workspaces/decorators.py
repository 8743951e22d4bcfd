"""Every workspace URL goes through ``workspace_member``: scoping is not left to each view."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from copywriter.workspaces.models import Membership, Role
from copywriter.workspaces.selectors import membership_and_all

View = Callable[..., HttpResponse]


def workspace_member(role: str = Role.VIEWER, *,
                     write_methods_need: str = Role.EDITOR) -> Callable[[View], View]:
    """Resolve ``ws`` from the URL into ``request.membership`` (404 for non-members).

    GET/HEAD need ``role``; any other method needs ``write_methods_need`` (403 otherwise), so a
    viewer can never write through a view that forgot to check.
    """

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, ws: int, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                if getattr(request, "htmx", False):
                    # An autosave after the session ended: say so where the user looks, and
                    # leave the page (and the text in it) alone.
                    return HttpResponse(
                        '<span id="save-status" class="field-error" role="alert">You were logged '
                        "out. Your text is still on this page: log in again in another tab, then "
                        "come back and save.</span>", status=401)
                return redirect_to_login(request.get_full_path())
            # One query serves the access check and the workspace switcher on the page.
            membership, mine = membership_and_all(user=request.user,  # type: ignore[arg-type]
                                                  workspace_id=ws)
            request.my_workspaces = mine  # type: ignore[attr-defined]
            needed = role if request.method in ("GET", "HEAD") else max(
                role, write_methods_need, key=lambda r: ["viewer", "editor", "owner"].index(r))
            if not membership.has_role(needed):
                raise PermissionDenied(f"This needs the {needed} role in {membership.workspace}.")
            request.membership = membership  # type: ignore[attr-defined]
            if request.session.get("workspace_id") != membership.workspace_id:
                # Only on a change: assigning marks the session modified, and a modified
                # session is an UPDATE + COMMIT on every page view (bench/web.py).
                request.session["workspace_id"] = membership.workspace_id
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def require_writer(membership: Membership, refusal: Exception | None = None) -> None:
    """Raise ``refusal`` (a bare ``PermissionDenied`` by default) unless the member is an editor
    or an owner. Services check too, not only ``workspace_member``: the API and the commands
    reach them without a view; each app words its refusal (and picks its error) itself."""
    if not membership.can_write:
        raise refusal if refusal is not None else PermissionDenied
