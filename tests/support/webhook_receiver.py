"""A real HTTP receiver for webhook tests (and the browser journey's publish step).

``WebhookReceiver(secret)`` serves on 127.0.0.1 at a random port in a thread, records every
request it gets, and checks each one's signature the way a receiving CMS would: HMAC-SHA256 with
the secret over ``"<X-Copywriter-Timestamp>.<raw body>"``, compared in constant time with the
hex of ``X-Copywriter-Signature``, and a timestamp no older than ``max_age`` seconds. It answers
with the statuses queued in ``answers`` (then 200), so a test can make it fail first::

    with WebhookReceiver(secret) as receiver:
        receiver.answers.extend([500, 500])   # two failures, then 200
        ... deliver to receiver.url ...
        assert receiver.requests[-1].verified

Sending to it needs ``WEBHOOK_ALLOWED_NETWORKS`` to include 127.0.0.0/8 (loopback is refused
otherwise; the same setting lets plain http through to it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def verify(*, secret: str, timestamp: str, body: bytes, signature: str,
           max_age: float = 300, now: float | None = None) -> bool:
    """What a receiver does with a message: True only for a fresh, correctly signed one."""
    if not signature.startswith("sha256=") or not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > max_age:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.removeprefix("sha256="))


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int  # what the receiver answered

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    secret: str = ""  # set it once the webhook is made (its secret is known only then)
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0  # seconds to wait before answering (timeouts)
    requests: list[Received] = field(default_factory=list)
    # (certificate file, key file): answer HTTPS as https://localhost:<port>/ instead
    tls: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k: v for k, v in self.headers.items()}
                ok = verify(secret=receiver.secret,
                            timestamp=self.headers.get("X-Copywriter-Timestamp", ""),
                            body=body, signature=self.headers.get("X-Copywriter-Signature", ""))
                status = receiver.answers.pop(0) if receiver.answers else 200
                if not ok and status == 200:
                    status = 401  # as a real receiver would: an unsigned message is refused
                receiver.requests.append(Received("POST", self.path, headers, body, ok, status))
                if receiver.delay:
                    time.sleep(receiver.delay)
                reply = json.dumps({"ok": status < 300, "verified": ok}).encode()
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/copywriter"
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.url = f"https://localhost:{self.port}/hooks/copywriter"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
