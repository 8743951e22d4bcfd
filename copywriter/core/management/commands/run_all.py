"""``make run``: the web server and a real Celery worker together, stopped together on Ctrl-C.

The web server is gunicorn (threaded workers, each process with a psycopg connection pool), not
``runserver``: runserver opens a thread per request and each thread kept its own PostgreSQL
connection for ``DB_CONN_MAX_AGE``, so a few clients polling their generations used up the
embedded server's 100 connections ("sorry, too many clients already", answered as 500s). With
pools the web tier holds at most ``processes x pool size`` connections whatever the traffic.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

# Connections left for the worker processes, management commands and an admin's psql.
RESERVED_CONNECTIONS = 20


def pool_size(*, max_connections: int, processes: int, threads: int) -> int:
    """Connections per web process: one per thread, within what the server allows."""
    per_process = (max_connections - RESERVED_CONNECTIONS) // processes
    if per_process < 1:
        raise CommandError(
            f"PostgreSQL allows {max_connections} connections: too few for {processes} web "
            f"processes plus {RESERVED_CONNECTIONS} for workers. Lower WEB_CONCURRENCY or raise "
            "max_connections.")
    return min(threads, per_process)


def beat_command(celery: str) -> list[str]:
    """``celery beat`` for ``CELERY_BEAT_SCHEDULE``, its state file under the data folder."""
    return [celery, "-A", "copywriter", "beat", "-l", "info",
            "--schedule", str(Path(settings.DATA_DIR) / "celerybeat-schedule")]


def gunicorn_command(*, host: str, port: int, processes: int, threads: int) -> list[str]:
    return [str(Path(sys.executable).with_name("gunicorn")), "copywriter.wsgi",
            "--bind", f"{host}:{port}", "--worker-class", "gthread", "--workers", str(processes),
            "--threads", str(threads), "--timeout", "60", "--graceful-timeout", "20",
            "--access-logfile", "-"]


class Command(BaseCommand):
    help = "Start the web server (gunicorn) and a Celery worker; Ctrl-C stops both, and the " \
           "embedded PostgreSQL and Valkey."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=1, help="Celery worker processes")
        parser.add_argument("--web-processes", type=int, default=settings.WEB_CONCURRENCY)
        parser.add_argument("--web-threads", type=int, default=settings.WEB_THREADS)
        parser.add_argument("--keep-embedded", action="store_true",
                            help="leave the embedded PostgreSQL and Valkey running on exit")

    def handle(self, *args: object, host: str, port: int, concurrency: int, web_processes: int,
               web_threads: int, keep_embedded: bool, **opts: object) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_connections")
            max_connections = int(cursor.fetchone()[0])
        connection.close()
        size = pool_size(max_connections=max_connections, processes=web_processes, threads=web_threads)
        base = Path(settings.BASE_DIR)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("DB_POOL", None)  # Celery's prefork children must not inherit a pool
        web_env = {**env, "DB_POOL": "1", "DB_POOL_MAX_SIZE": str(size), "SERVE_STATIC": "1"}
        celery = str(Path(sys.executable).with_name("celery"))
        queues = f"{settings.GENERATION_QUEUE},default"
        procs = [
            subprocess.Popen(gunicorn_command(host=host, port=port, processes=web_processes,
                                              threads=web_threads), cwd=base, env=web_env),
            subprocess.Popen(
                [celery, "-A", "copywriter", "worker", "-l", "info", "-Q", queues,
                 "--concurrency", str(concurrency), "-n", f"cpu@{os.uname().nodename}"],
                cwd=base, env=env),
            # Brand-voice training in a worker of its own: a training holds its worker for
            # minutes, and the generation worker above never reads VOICE_QUEUE.
            subprocess.Popen(
                [celery, "-A", "copywriter", "worker", "-l", "info", "-Q", settings.VOICE_QUEUE,
                 "--concurrency", "1", "-n", f"voices@{os.uname().nodename}"],
                cwd=base, env=env),
            # The periodic jobs (CELERY_BEAT_SCHEDULE: the activity log's retention); its
            # schedule file stays under the data folder.
            subprocess.Popen(beat_command(celery), cwd=base, env=env),
        ]
        stopping = False
        if self._wait_for_port(host, port, procs[0]):
            self.stdout.write(self.style.SUCCESS(
                f"\ncopywriter is running: http://{host}:{port}/\n"
                f"(gunicorn {web_processes}x{web_threads} threads, {size} database connections per "
                f"process of {max_connections}; Celery workers for generations and for brand-voice "
                f"training; celery beat for periodic jobs; Ctrl-C stops all)\n"))

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(p.poll() is None for p in procs):
                time.sleep(0.5)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)  # Celery: warm shutdown, unacked jobs go back
            deadline = time.monotonic() + 30
            for p in procs:
                try:
                    p.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.kill()
        self.stdout.write("stopped web server and workers")
        if not keep_embedded:
            self._stop_embedded()

    def _stop_embedded(self) -> None:
        """Stop the embedded servers this checkout runs (not a DATABASE_URL / REDIS_URL server)."""
        from copywriter.core import embedded

        connection.close()
        stopped = []
        if settings.EMBEDDED_DATABASE and embedded.stop_postgres(settings.DATA_DIR):
            stopped.append("PostgreSQL")
        if settings.EMBEDDED_REDIS and embedded.stop_valkey(settings.DATA_DIR):
            stopped.append("Valkey")
        if stopped:
            self.stdout.write(f"stopped the embedded {' and '.join(stopped)}")

    @staticmethod
    def _wait_for_port(host: str, port: int, web: subprocess.Popen[bytes]) -> bool:
        import socket

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and web.poll() is None:
            with socket.socket() as s:
                s.settimeout(0.5)
                if s.connect_ex((host, port)) == 0:
                    return True
            time.sleep(0.3)
        return False
