"""Where the request being served comes from, for ``record``: set by the middleware, empty in
Celery tasks and commands (the contextvar's default)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    ip: str | None
    user_agent: str


NOWHERE = Origin(ip=None, user_agent="")
current: ContextVar[Origin] = ContextVar("audit_origin", default=NOWHERE)
