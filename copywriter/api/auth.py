"""Who is calling: a token authenticates as one membership of one workspace."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer

from copywriter.api import services as token_services
from copywriter.api.errors import ApiError
from copywriter.workspaces.decorators import require_writer
from copywriter.workspaces.models import Membership


class TokenAuth(HttpBearer):
    """``Authorization: Bearer cw_...``. Only tokens: a session cookie is never read here, so
    the API needs no CSRF protection and a logged-in browser cannot be made to call it."""

    def authenticate(self, request: HttpRequest, token: str) -> Membership:
        try:
            api_token, membership = token_services.token_authenticate(secret=token)
        except token_services.TokenRefused as exc:
            raise ApiError(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
        wait = token_services.request_allowed(token=api_token,
                                              per_minute=settings.API_REQUESTS_PER_MINUTE)
        if wait:
            raise ApiError(429, f"This token made {settings.API_REQUESTS_PER_MINUTE} requests "
                                "this minute; wait and try again.",
                           permanent=False, retry_after=wait)
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > settings.API_MAX_BODY_BYTES:
            raise ApiError(413, f"The request body is {int(length):,} bytes; the limit is "
                                f"{settings.API_MAX_BODY_BYTES:,}.")
        request.api_token = api_token  # type: ignore[attr-defined]
        return membership


def member(request: HttpRequest) -> Membership:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def writer(request: HttpRequest) -> Membership:
    membership = member(request)
    require_writer(membership, ApiError(
        403, "This token is read-only (viewer role); writes need an editor token."))
    return membership
