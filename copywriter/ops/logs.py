"""Structured logs: a request id on every line (web and worker), and an optional JSON format.

``LOG_FORMAT=json`` makes every line one JSON object (``ts``, ``level``, ``logger``, ``msg``,
``request_id`` and any ``extra=``), for a log shipper; the default stays human-readable. The web
request id comes from a trusted proxy's ``X-Request-ID`` or is made here, and goes back in the
response header; a Celery job enqueued during a request carries it in a message header, so the
worker's lines for that job share it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}
access_log = logging.getLogger("copywriter.request")


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request or a job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return time.strftime(datefmt or "%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))


class RequestIdMiddleware:
    """Sets the request id for this request's log lines and answers it in ``X-Request-ID``;
    logs one access line per request (method, path, status, milliseconds)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _VALID_ID.match(incoming) else new_request_id()
        # Not reset on the way out: Django logs 4xx/5xx ("django.request") after the middleware
        # chain returns, and those lines need the id most. The next request sets its own.
        request_id_var.set(rid)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = rid
        if not request.path.startswith("/static/"):
            access_log.info("%s %s %s", request.method, request.path, response.status_code,
                            extra={"method": request.method, "path": request.path,
                                   "status": response.status_code,
                                   "ms": round((time.perf_counter() - started) * 1000, 1)})
        return response


def connect_celery_signals() -> None:
    """Carry the request id from the enqueueing request into the job's log lines."""
    from celery import signals

    @signals.before_task_publish.connect(weak=False)
    def _add_header(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
        rid = request_id_var.get()
        if headers is not None and rid != "-":
            headers.setdefault("request_id", rid)

    @signals.task_prerun.connect(weak=False)
    def _set_id(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
        request = getattr(task, "request", None)
        # Protocol 2 puts custom headers on the request; older paths keep them in .headers.
        rid = (getattr(request, "request_id", None)
               or (getattr(request, "headers", None) or {}).get("request_id") or task_id or "-")
        request_id_var.set(str(rid))

    @signals.task_postrun.connect(weak=False)
    def _clear_id(**kwargs: Any) -> None:
        request_id_var.set("-")


def celery_use_django_logging() -> None:
    """With ``LOG_FORMAT=json``, Celery workers log through Django's LOGGING (one JSON object per
    line) instead of installing their own plain-text handlers."""
    from celery import signals

    @signals.setup_logging.connect(weak=False)
    def _setup(**kwargs: Any) -> None:
        import logging.config

        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)
