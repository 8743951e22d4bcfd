"""htmx answers shared by the apps' views."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import HttpResponseStopPolling


def render_poll(request: HttpRequest, template_name: str, context: dict[str, Any], *,
                done: bool) -> HttpResponse:
    """The partial a polling element asked for. Once ``done``, the same content answers 286,
    which tells htmx to stop polling: the final state is in this last response."""
    response = render(request, template_name, context)
    return HttpResponseStopPolling(response.content) if done else response
