"""Refuse text that cannot be stored before any view sees it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.datastructures import MultiValueDict

MESSAGE = ("The form held a NUL character (\\0), which text cannot contain. Nothing was saved; "
           "go back, remove it (it usually comes from pasting binary data) and send again.")


def _has_nul(data: MultiValueDict[str, Any]) -> bool:
    for key, values in data.lists():
        if "\x00" in key or any(isinstance(v, str) and "\x00" in v for v in values):
            return True
    return False


class RejectNulMiddleware:
    """A NUL in a query string or form field answers 400 with a message: PostgreSQL cannot hold
    it in text, and a view that stored it would fail with a server error. The JSON API checks
    its own bodies (``copywriter.api.endpoints``) and answers in JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            return None
        if _has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST)):
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return None
