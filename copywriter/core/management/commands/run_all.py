"""``make run``: the web server and a real Celery worker together, stopped together on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Start the web server and a Celery worker; Ctrl-C stops both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=1)

    def handle(self, *args: object, host: str, port: int, concurrency: int, **opts: object) -> None:
        base = Path(settings.BASE_DIR)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        celery = str(Path(sys.executable).with_name("celery"))
        queues = f"{settings.GENERATION_QUEUE},default"
        procs = [
            subprocess.Popen(
                [sys.executable, str(base / "manage.py"), "runserver", f"{host}:{port}",
                 "--noreload", "--insecure"], env=env),
            subprocess.Popen(
                [celery, "-A", "copywriter", "worker", "-l", "info", "-Q", queues,
                 "--concurrency", str(concurrency), "-n", f"cpu@{os.uname().nodename}"], env=env),
        ]
        stopping = False
        if self._wait_for_port(host, port, procs[0]):
            self.stdout.write(self.style.SUCCESS(
                f"\ncopywriter is running: http://{host}:{port}/\n"
                "(web server + Celery worker; Ctrl-C stops both)\n"))

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
        self.stdout.write("stopped web server and worker")

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
