"""`manage.py mcp` as a subprocess against the test database, and an MCP client from the SDK.

The server runs in its own process (as a desktop client starts it), so the tests that use it
commit their data (``django_db(transaction=True)``) and talk to it only through the protocol.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests.support import workers

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def server_env(**extra: str) -> dict[str, str]:
    """The test database and this run's Redis (broker too, so nothing reaches another's)."""
    return workers.worker_env(CELERY_BROKER_URL=workers.REDIS_URL, **extra)


def manage(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), "mcp", *args]


@asynccontextmanager
async def stdio_session(token: str, errlog: Path, **env: str) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=sys.executable, args=[str(ROOT / "manage.py"), "mcp"],
                                   env=server_env(COPYWRITER_API_TOKEN=token, **env),
                                   cwd=str(ROOT))
    with errlog.open("a") as err:
        async with stdio_client(params, errlog=err) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            yield session


def run(main: Callable[[], Awaitable[T]]) -> T:
    """Run the client side (async) from a sync test: the ORM stays in the sync part."""
    return anyio.run(main)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def http_server(log: Path) -> Any:
    """``manage.py mcp --http`` on a free port; yields its URL once it answers."""
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(manage("--http", "--port", str(port)), cwd=ROOT,
                                env=server_env(), stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                httpx2.get(url, timeout=1)
                break
            except httpx2.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("the MCP HTTP server did not start\n" + log.read_text()[-3000:])
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@asynccontextmanager
async def http_session(url: str, token: str) -> AsyncIterator[ClientSession]:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"},
                                  timeout=httpx2.Timeout(30, read=300)) as client, \
            streamable_http_client(url, http_client=client) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        yield session


def error_of(result: Any) -> dict[str, Any]:
    """The JSON a failed tool call answered (status, detail, errors), after the SDK's
    "Error executing tool <name>: " prefix."""
    assert result.is_error, f"expected an error, got {result.structured_content}"
    text = result.content[0].text
    assert text.startswith("Error executing tool "), text
    return json.loads(text[text.index("{"):])  # type: ignore[no-any-return]
