from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from copywriter.accounts.models import User
    from copywriter.workspaces.models import Membership


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    user: User  # type: ignore[assignment]


class MemberRequest(HtmxHttpRequest):
    """A request that passed ``workspace_member``: ``membership`` is the caller's."""

    membership: Membership
