"""A database, cache or broker that is briefly out of reach answers 503 with ``Retry-After``.

Without this, a restarting PostgreSQL, a full connection pool or a Valkey that is not back yet
turned every request into a 500 ("something is broken") although retrying in a few seconds
works. Django hands uncaught exceptions to ``handler500`` with ``sys.exc_info()`` still set, so
one handler sees them all, whichever middleware or view raised them; the API's catch-all
exception handler asks the same question.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import server_error as django_server_error

MESSAGE = ("The service is briefly unavailable (its database, cache or queue is out of reach). "
           "This request changed nothing; please try again in a few seconds.")


def is_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) means a backing service could not be reached."""
    import kombu.exceptions
    import redis.exceptions
    from django.db import InterfaceError, OperationalError

    kinds: tuple[type[BaseException], ...] = (
        OperationalError, InterfaceError,  # includes psycopg_pool.PoolTimeout, wrapped by Django
        redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
        kombu.exceptions.OperationalError, ConnectionError,
    )
    seen = 0
    while exc is not None and seen < 8:  # a bounded walk down the cause chain
        if isinstance(exc, kinds):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def unavailable_response(request: HttpRequest) -> HttpResponse:
    retry = str(settings.SERVICE_RETRY_AFTER_SECONDS)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": MESSAGE}, status=503)
    else:
        # No template: rendering one runs context processors, which may need the very database
        # that is gone.
        response = HttpResponse(
            f"<!doctype html><title>Briefly unavailable</title><h1>Briefly unavailable</h1>"
            f"<p>{MESSAGE}</p>", status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = retry
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: 503 + Retry-After when a backing service is out of reach, else Django's 500."""
    if is_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    return django_server_error(request)
