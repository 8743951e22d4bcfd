"""Real Celery worker processes against the real Redis on this machine, for the slow tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import redis
from django.db import connection
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def test_database_url() -> str:
    s = connection.settings_dict
    host = s["HOST"]
    if host.startswith("/"):
        return f"postgresql://{s['USER']}@/{s['NAME']}?host={host}"
    return f"postgresql://{s['USER']}:{s['PASSWORD']}@{host}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        celery = str(Path(sys.executable).with_name("celery"))
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [celery, "-A", "copywriter", "worker", "-Q", "cpu,default", "-c", "1", "-P", "prefork",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
             "-n", f"test-{os.getpid()}@%h"], cwd=ROOT, env=self.env, stdout=out, stderr=out)
        return self

    def children(self) -> list[psutil.Process]:
        assert self.proc is not None
        return psutil.Process(self.proc.pid).children(recursive=True)

    def kill_child(self) -> int:
        kids = self.children()
        assert kids, "worker has no child process"
        kids[0].send_signal(signal.SIGKILL)
        return kids[0].pid

    def kill_all(self) -> None:
        assert self.proc is not None
        for p in self.children():
            p.send_signal(signal.SIGKILL)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        for p in self.children():
            p.send_signal(signal.SIGKILL)
        self.proc.kill()
        self.proc.wait(10)


def worker_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": test_database_url(), "REDIS_URL": REDIS_URL,
           "CELERY_BROKER_URL": REDIS_URL, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1",
           "COPYWRITER_TESTING": "0", "GENERATION_LEASE_SECONDS": "20"}
    env.pop("PYTEST_CURRENT_TEST", None)
    env.update(extra)
    return env


def wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def publish(generation_id: int) -> None:
    """Enqueue exactly as the web process does, on the real Redis broker."""
    from copywriter.celery import app
    from copywriter.pipeline.tasks import generate

    with app.connection_for_write(REDIS_URL) as conn:
        generate.apply_async(args=[generation_id], queue="cpu", connection=conn)


def flush() -> None:
    redis.Redis.from_url(REDIS_URL).flushdb()


@contextmanager
def broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (producer pool, control broadcasts, Django setting) at
    ``url``; the test process otherwise publishes to the default broker."""
    from copywriter.celery import app

    def reset() -> None:
        # kombu keeps connection and producer pools in process-wide registries keyed by broker
        # URL: closing only the app's pool left a closed one registered for an earlier test's
        # URL ("Acquire on closed pool"); reset() closes and forgets them all.
        from kombu import pools

        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    old = app.conf.broker_url
    app.conf.broker_url = url
    reset()
    try:
        with override_settings(CELERY_BROKER_URL=url):
            yield
    finally:
        app.conf.broker_url = old
        reset()
