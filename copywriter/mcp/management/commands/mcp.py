"""``manage.py mcp``: the MCP server over stdio (for desktop clients that start it), or with
``--http`` over streamable HTTP (for clients that connect to a URL). See docs/mcp.md."""

from __future__ import annotations

import sys
from typing import Any

import anyio
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from copywriter.api.auth import token_member
from copywriter.api.errors import ApiError
from copywriter.mcp import http
from copywriter.mcp.server import build_server


class Command(BaseCommand):
    help = ("Serve the MCP server: over stdio acting as one API token (--token or "
            "COPYWRITER_API_TOKEN), or with --http over streamable HTTP, where every request "
            "sends its own token as Authorization: Bearer.")
    requires_system_checks: list[str] = []  # stdout is the protocol's: print nothing on it

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--token", default="",
                            help="The API token (cw_...) for stdio; default: COPYWRITER_API_TOKEN. "
                                 "Prefer the environment: arguments show in process lists.")
        parser.add_argument("--http", action="store_true", help="Serve streamable HTTP instead.")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--path", default="/mcp", help="The endpoint's path (default /mcp).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["http"]:
            if options["token"]:
                raise CommandError("--token is for stdio; over HTTP each request sends its own "
                                   "token (Authorization: Bearer cw_...).")
            sys.stderr.write(f"MCP server on http://{options['host']}:{options['port']}"
                             f"{options['path']} (streamable HTTP)\n")
            http.serve(host=options["host"], port=options["port"], path=options["path"])
            return
        token = options["token"] or settings.MCP_API_TOKEN
        if not token:
            raise CommandError("No API token: pass --token cw_... or set COPYWRITER_API_TOKEN "
                               "(make one in the workspace's Settings > API tokens).")
        try:  # refuse a bad token at start, where a desktop client shows it in its log
            token_member(token)
        except ApiError as exc:
            raise CommandError(f"The API token was refused: {exc.message}") from None
        anyio.run(build_server(token=token).run_stdio_async)
