"""Health checks: the database, the broker, and at least one worker answering a ping.

Results are kept in this process for ``HEALTH_CACHE_SECONDS`` so that a load balancer polling
every second costs one broadcast ping per few seconds, not one per request.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from copywriter.celery import app


@dataclass
class Check:
    ok: bool
    detail: str
    ms: float = 0.0


@dataclass
class Health:
    checks: dict[str, Check] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks.values())

    def as_json(self) -> dict[str, object]:
        return {"status": "ok" if self.ok else "fail",
                "failed": [name for name, c in self.checks.items() if not c.ok],
                "checks": {name: {"ok": c.ok, "detail": c.detail, "ms": round(c.ms, 1)}
                           for name, c in self.checks.items()}}

    def as_status_json(self) -> dict[str, object]:
        """For anonymous callers: what failed, by name, without hosts or exception text."""
        return {"status": "ok" if self.ok else "fail",
                "failed": [name for name, c in self.checks.items() if not c.ok],
                "checks": {name: {"ok": c.ok} for name, c in self.checks.items()}}


def _timed(fn):  # type: ignore[no-untyped-def]
    def run() -> Check:
        started = time.perf_counter()
        try:
            check = fn()
        except Exception as exc:  # noqa: BLE001 - any failure is the answer
            check = Check(False, f"{exc.__class__.__name__}: {exc}"[:300])
        check.ms = (time.perf_counter() - started) * 1000
        return check
    return run


@_timed
def check_database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Check(True, connection.vendor)


def _broker_connection():  # type: ignore[no-untyped-def]
    timeout = settings.HEALTH_WORKER_TIMEOUT
    return app.connection_for_write(
        settings.CELERY_BROKER_URL, connect_timeout=timeout,
        transport_options={"socket_connect_timeout": timeout, "socket_timeout": timeout + 1,
                           "max_retries": 0})


@_timed
def check_broker() -> Check:
    with _broker_connection() as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.HEALTH_WORKER_TIMEOUT)
        conn.default_channel  # noqa: B018 - opening a channel makes Redis answer a PING
        return Check(True, str(conn.transport.driver_name))


@_timed
def check_workers() -> Check:
    with _broker_connection() as conn:
        replies = app.control.ping(timeout=settings.HEALTH_WORKER_TIMEOUT, connection=conn)
    names = sorted(name for reply in replies or [] for name in reply)
    if not names:
        return Check(False, f"no worker answered a ping within {settings.HEALTH_WORKER_TIMEOUT} s: "
                            "start one with `make worker`")
    return Check(True, f"{len(names)} worker(s): {', '.join(names)[:200]}")


_cache: dict[bool, tuple[float, Health]] = {}
_lock = threading.Lock()


def health(*, quick: bool = False) -> Health:
    """``quick``: liveness (database and broker, no worker ping)."""
    now = time.monotonic()
    with _lock:
        hit = _cache.get(quick)
        if hit and now - hit[0] < settings.HEALTH_CACHE_SECONDS:
            return hit[1]
    result = Health()
    result.checks["database"] = check_database()
    result.checks["broker"] = check_broker()
    if not quick:
        if result.checks["broker"].ok:
            result.checks["worker"] = check_workers()
        else:
            result.checks["worker"] = Check(False, "not checked: the broker is unreachable")
    with _lock:
        _cache[quick] = (time.monotonic(), result)
    return result


def clear_cache() -> None:
    with _lock:
        _cache.clear()
