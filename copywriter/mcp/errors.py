"""What a tool answers when it fails: the JSON API's own answer to the same failure.

Every refusal goes through the API's exception handlers (``copywriter/api/errors.py``), so a
tool and the matching endpoint fail with the same status, message and field errors; the
tool's error text is that JSON with the status added, e.g.
``{"status": 400, "detail": "Some fields need attention.", "errors": {"product": "..."}}``.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from mcp.server.mcpserver.exceptions import ToolError

from copywriter.api.api import api


def tool_error(exc: Exception, *, tool: str) -> ToolError:
    """The ``ToolError`` for ``exc``, raised in the tool ``tool``."""
    request = HttpRequest()
    # The handlers log and pick their answer by method and path: /api/ answers JSON.
    request.method, request.path = "POST", f"/api/v1/mcp/{tool}"
    response = api.on_exception(request, exc)
    try:
        body: dict[str, Any] = json.loads(response.content)
    except ValueError:  # not expected: every API handler answers JSON
        body = {"detail": response.content.decode("utf-8", "replace")}
    answer: dict[str, Any] = {"status": response.status_code, **body}
    if response.has_header("Retry-After"):
        answer["retry_after"] = int(response["Retry-After"])
    return ToolError(json.dumps(answer, ensure_ascii=False))
