"""Puts the client's address (trusted proxies honoured: ``core.clientip``) and user agent where
``audit.services.record`` finds them, for the length of one request."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from copywriter.audit.context import Origin, current
from copywriter.audit.models import USER_AGENT_MAX
from copywriter.core.clientip import client_address


def origin_of(request: HttpRequest) -> Origin:
    address: str | None = client_address(request)
    try:
        ipaddress.ip_address(address or "")
    except ValueError:
        address = None  # a test client or a unix socket: no address rather than a wrong one
    agent = str(request.META.get("HTTP_USER_AGENT", "")).replace("\x00", "")[:USER_AGENT_MAX]
    return Origin(ip=address, user_agent=agent)


class AuditOriginMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current.set(origin_of(request))
        try:
            return self.get_response(request)
        finally:
            current.reset(token)
