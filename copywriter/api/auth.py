"""Who is calling: a token authenticates as one membership of one workspace."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer

from copywriter.api import services as token_services
from copywriter.api.errors import ApiError
from copywriter.api.models import ApiToken
from copywriter.workspaces.decorators import require_writer
from copywriter.workspaces.models import Membership


def token_member(secret: str) -> tuple[ApiToken, Membership]:
    """The token and the membership it acts as, counted against the token's requests per
    minute; ``ApiError`` 401 or 429 otherwise. The API's ``TokenAuth`` and the MCP server
    (``copywriter/mcp``) both authenticate through here, so they refuse with the same words."""
    try:
        api_token, membership = token_services.token_authenticate(secret=secret)
    except token_services.TokenRefused as exc:
        raise ApiError(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    wait = token_services.request_allowed(token=api_token,
                                          per_minute=settings.API_REQUESTS_PER_MINUTE)
    if wait:
        raise ApiError(429, f"This token made {settings.API_REQUESTS_PER_MINUTE} requests "
                            "this minute; wait and try again.",
                       permanent=False, retry_after=wait)
    return api_token, membership


def require_token_writer(membership: Membership) -> Membership:
    """``membership`` when its role may write, else the API's 403 for read-only tokens."""
    require_writer(membership, ApiError(
        403, "This token is read-only (viewer role); writes need an editor token."))
    return membership


class TokenAuth(HttpBearer):
    """``Authorization: Bearer cw_...``. Only tokens: a session cookie is never read here, so
    the API needs no CSRF protection and a logged-in browser cannot be made to call it."""

    def authenticate(self, request: HttpRequest, token: str) -> Membership:
        api_token, membership = token_member(token)
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > settings.API_MAX_BODY_BYTES:
            raise ApiError(413, f"The request body is {int(length):,} bytes; the limit is "
                                f"{settings.API_MAX_BODY_BYTES:,}.")
        request.api_token = api_token  # type: ignore[attr-defined]
        return membership


def member(request: HttpRequest) -> Membership:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def writer(request: HttpRequest) -> Membership:
    return require_token_writer(member(request))
