"""What the API answers when a request fails: JSON everywhere, ``{"detail": ..., "errors": {...}}``
(a few refusals add keys). ``install`` registers the handlers on the API, with the API bound as
ninja registers its own defaults (``partial(handler, api=api)``), since the answer is rendered
by the API's renderer."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from copywriter.core import unavailable
from copywriter.core.errors import UserError

log = logging.getLogger(__name__)


class ApiError(UserError):
    """A refusal of the API's own: ``headers`` go on the answer, ``extra`` into its JSON."""

    def __init__(self, status: int, detail: str, *, errors: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None,
                 permanent: bool = True, retry_after: int | None = None):
        super().__init__(detail, status=status, permanent=permanent, field_errors=errors,
                         retry_after=retry_after)
        self.headers = headers or {}
        self.extra = extra or {}


def error_response(api: NinjaAPI, request: HttpRequest, status: int, detail: str,
                   errors: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                   **extra: Any) -> HttpResponse:
    response = api.create_response(request, {"detail": detail, "errors": errors or {}, **extra},
                                   status=status)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def _user_error(request: HttpRequest, exc: UserError, *, api: NinjaAPI) -> HttpResponse:
    """Every app's user-facing error, answered with its own status (one handler for all)."""
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else {}
    extra: dict[str, Any] = {}
    if isinstance(exc, ApiError):
        headers |= exc.headers
        extra = exc.extra
    return error_response(api, request, exc.status, exc.message, exc.field_errors, headers,
                          **extra)


def _unauthenticated(request: HttpRequest, exc: AuthenticationError, *,
                     api: NinjaAPI) -> HttpResponse:
    return error_response(api, request, 401, "Send an API token: Authorization: Bearer cw_... "
                                             "(make one in the workspace's Settings > API "
                                             "tokens).",
                          headers={"WWW-Authenticate": "Bearer"})


def _invalid(request: HttpRequest, exc: NinjaValidationError, *, api: NinjaAPI) -> HttpResponse:
    errors: dict[str, str] = {}
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", ())]
        # ("body", "payload", "fields", "x") -> "fields.x"; ("query", "limit") -> "limit"
        name = ".".join(loc[2:] if loc[:1] == ["body"] else loc[1:]) or "__all__"
        errors.setdefault(name, str(err.get("msg", "Invalid value.")))
    return error_response(api, request, 400, "The request is not valid; see errors.", errors)


def _http_error(request: HttpRequest, exc: HttpError, *, api: NinjaAPI) -> HttpResponse:
    return error_response(api, request, exc.status_code, str(exc))


def _not_found(request: HttpRequest, exc: Http404, *, api: NinjaAPI) -> HttpResponse:
    return error_response(api, request, 404, "Not found in this token's workspace.")


def _forbidden(request: HttpRequest, exc: PermissionDenied, *, api: NinjaAPI) -> HttpResponse:
    return error_response(api, request, 403, str(exc) or "This token's role does not allow that.")


def _too_big(request: HttpRequest, exc: RequestDataTooBig, *, api: NinjaAPI) -> HttpResponse:
    return error_response(api, request, 413, f"The request body is over the limit of "
                                             f"{settings.API_MAX_BODY_BYTES:,} bytes.")


def _django_invalid(request: HttpRequest, exc: ValidationError, *, api: NinjaAPI) -> HttpResponse:
    return error_response(api, request, 400, " ".join(exc.messages))


def _server_error(request: HttpRequest, exc: Exception, *, api: NinjaAPI) -> HttpResponse:
    if unavailable.is_unavailable(exc):
        log.warning("API %s %s: a backing service is out of reach: %r", request.method, request.path, exc)
        return unavailable.unavailable_response(request)
    log.exception("API error on %s %s", request.method, request.path)
    return error_response(api, request, 500, "Something went wrong on our side; it was logged. "
                                             "Nothing you sent was stored unless a later read "
                                             "shows it.")


HANDLERS: tuple[tuple[type[Exception], Any], ...] = (
    (UserError, _user_error),
    (AuthenticationError, _unauthenticated),
    (NinjaValidationError, _invalid),
    (HttpError, _http_error),
    (Http404, _not_found),
    (PermissionDenied, _forbidden),
    (RequestDataTooBig, _too_big),
    (ValidationError, _django_invalid),
    (Exception, _server_error),
)


def install(api: NinjaAPI) -> None:
    """Answer every error ``api`` meets; the most specific handler wins (ninja walks the
    exception's classes in order)."""
    for exc_class, handler in HANDLERS:
        api.add_exception_handler(exc_class, partial(handler, api=api))
