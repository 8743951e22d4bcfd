"""Refuse input that no view could handle, before any view (or the CSRF check) reads it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.datastructures import MultiValueDict

NUL_MESSAGE = ("The form held a NUL character (\\0), which text cannot contain. Nothing was saved; "
               "go back, remove it (it usually comes from pasting binary data) and send again.")
# File uploads (.txt/.md references, brand-voice samples, bulk CSV/XLSX) are checked per file by
# their views; this bounds the whole request.
MULTIPART_MAX_BYTES = 50_000_000


def _has_nul(data: MultiValueDict[str, Any]) -> bool:
    for key, values in data.lists():
        if "\x00" in key or any(isinstance(v, str) and "\x00" in v for v in values):
            return True
    return False


class InputGuardMiddleware:
    """413 for a form body over the limit (Django would answer a bare 400), and 400 for a NUL in
    a query string or form field (PostgreSQL cannot hold it in text: a view storing it would
    fail with a server error). The JSON API checks its own requests and answers in JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and not request.path.startswith("/api/"):
            length = request.META.get("CONTENT_LENGTH") or "0"
            size = int(length) if length.isdigit() else 0
            multipart = request.content_type == "multipart/form-data"
            limit = MULTIPART_MAX_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            too_big = limit is not None and size > limit
            if not too_big and multipart:
                try:  # the text fields of a multipart form count against Django's limit
                    request.POST  # noqa: B018 - parsed here so the error can be answered
                except RequestDataTooBig:
                    too_big, limit = True, settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if too_big:
                return HttpResponse(
                    f"The form is {size:,} bytes; the limit is {limit:,} (text fields; files are "
                    "checked one by one). Nothing was saved: go back, shorten the text or split "
                    "it, and send again.", status=413, content_type="text/plain; charset=utf-8")
        response = self.get_response(request)
        if request.path.startswith("/api/v1/") and not request.path.startswith("/api/v1/docs/"):
            return _json_error(response)
        return response

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            return None
        if _has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST)):
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return None


API_ERRORS = {404: "No such API path; see /api/v1/docs/.",
              405: "That method is not allowed here; see the Allow header and /api/v1/docs/."}


def _json_error(response: HttpResponse) -> HttpResponse:
    """The API answers in JSON even where Django or ninja would not (an unknown path, a method
    the path does not take, a server error page)."""
    if response.status_code < 400 or response.get("Content-Type", "").startswith("application/json"):
        return response
    detail = API_ERRORS.get(response.status_code, response.reason_phrase or "Error")
    replaced = JsonResponse({"detail": detail, "errors": {}}, status=response.status_code)
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if header in response:
            replaced[header] = response[header]
    return replaced
