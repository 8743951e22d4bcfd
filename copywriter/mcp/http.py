"""The MCP server over streamable HTTP: every request must carry ``Authorization: Bearer cw_...``.

The gate authenticates each HTTP request with the API's own check (``api.auth.token_member``:
unknown, revoked and ex-member tokens answer 401, a token over its requests per minute 429, in
the API's words) before the SDK sees it, and leaves the membership in the request's scope for
the tools (``server.SCOPE_KEY``). A tool call thus acts as the token of the request that
carried it, even if a session's requests carry different tokens.
"""

from __future__ import annotations

import json
from typing import Any

import anyio.to_thread
import uvicorn
from django.conf import settings
from django.db import close_old_connections
from starlette.types import ASGIApp, Receive, Scope, Send

from copywriter.api.auth import token_member
from copywriter.api.errors import ApiError
from copywriter.mcp.server import SCOPE_KEY, build_server

MISSING = ("Send an API token: Authorization: Bearer cw_... (make one in the workspace's "
           "Settings > API tokens).")


def _authenticate(secret: str) -> Any:
    close_old_connections()
    try:
        return token_member(secret)[1]
    finally:
        close_old_connections()


class TokenGate:
    """ASGI middleware: a request without a valid API token never reaches the MCP server."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan: the session manager's start and stop
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        scheme, _, secret = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            await _refuse(send, 401, MISSING, {"www-authenticate": "Bearer"})
            return
        try:
            membership = await anyio.to_thread.run_sync(_authenticate, secret.strip())
        except ApiError as exc:
            extra = {k.lower(): v for k, v in exc.headers.items()}
            if exc.retry_after is not None:
                extra["retry-after"] = str(exc.retry_after)
            await _refuse(send, exc.status, exc.message, extra)
            return
        scope[SCOPE_KEY] = membership
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, detail: str, headers: dict[str, str]) -> None:
    body = json.dumps({"detail": detail, "errors": {}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def http_app(*, host: str = "127.0.0.1", path: str = "/mcp") -> ASGIApp:
    """The streamable HTTP app behind the gate. On a loopback ``host`` the SDK also refuses
    other Host and Origin headers (DNS rebinding)."""
    app = build_server().streamable_http_app(
        streamable_http_path=path, host=host, max_request_body_size=settings.API_MAX_BODY_BYTES)
    return TokenGate(app)


def serve(*, host: str, port: int, path: str = "/mcp") -> None:
    uvicorn.run(http_app(host=host, path=path), host=host, port=port, log_level="warning",
                lifespan="on")
