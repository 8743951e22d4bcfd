"""The audit trail's one door: ``record`` (the contract every app above calls), and the jobs
on the trail: pruning by age and the CSV export."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from copywriter.audit.context import current
from copywriter.audit.models import (
    ACTION_MAX,
    LABEL_MAX,
    SUMMARY_MAX,
    AuditEvent,
)
from copywriter.core.spreadsheet import escape_formula

log = logging.getLogger(__name__)

DETAILS_MAX_CHARS = 4000  # details are small facts; anything bigger is kept as a cut repr
CSV_COLUMNS = ["time (UTC)", "actor", "action", "target type", "target id", "target",
               "summary", "details", "ip", "user agent"]


def _text(value: object, limit: int) -> str:
    # NUL cannot be stored in PostgreSQL text; a label is one line.
    return " ".join(str(value).replace("\x00", "").split())[:limit]


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON the database stores (no NUL in strings: jsonb refuses it), or raises
    TypeError for anything JSON cannot hold."""
    if depth > 10:
        raise TypeError("nested too deeply")
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_plain(str(k)): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    raise TypeError(f"{type(value).__name__} is not JSON")


def _details(details: dict[str, Any] | None) -> dict[str, Any]:
    if not details:
        return {}
    try:
        plain = _plain(details)
        if not isinstance(plain, dict):
            raise TypeError("not an object")
        if len(json.dumps(plain, allow_nan=False)) <= DETAILS_MAX_CHARS:
            return plain
    except (TypeError, ValueError, RecursionError):
        pass
    return {"repr": _text(repr(details), DETAILS_MAX_CHARS)}


def _target(target: Any) -> tuple[str, str, str]:
    """(type, id, label) of a model instance; a plain value is only a label."""
    if target is None:
        return "", "", ""
    meta = getattr(target, "_meta", None)
    label = _text(target, LABEL_MAX)
    if meta is None:
        return "", "", label
    pk = getattr(target, "pk", None)
    return meta.label_lower[:64], "" if pk is None else str(pk)[:64], label


def record(*, workspace: Any, actor: Any, action: str, target: Any = None,
           summary: str = "", details: dict[str, Any] | None = None) -> None:
    """Record that ``actor`` (a user, or ``None`` for the system) did ``action`` in ``workspace``.

    - ``action``: a dotted name, e.g. ``document.state_changed``, ``member.role_changed``,
      ``token.created``, ``document.exported``, ``document.deleted``, ``webhook.created``;
    - ``target``: the model instance acted on (its type and id are kept, and its ``str()`` at the
      time, so the row still reads after the target is deleted), or ``None``;
    - ``summary``: one human sentence for the activity list (e.g. "moved 'Spring launch' from in
      review to approved");
    - ``details``: small JSON-serialisable facts (old/new values, counts).

    "From where" (IP address, user agent) comes from the request being served, if any
    (middleware); from a Celery task it is empty. Written in the caller's transaction: a
    rolled-back change leaves no event. Never raises for a bad ``details`` value: it is stored as
    its ``repr``.
    """
    workspace_id = getattr(workspace, "pk", workspace)
    if not isinstance(workspace_id, int):
        raise ValueError(f"record({action!r}): a workspace or its id, not {workspace!r}")
    if not action or len(action) > ACTION_MAX:
        raise ValueError(f"record(): an action name of 1 to {ACTION_MAX} characters, "
                         f"not {action!r}")
    # An anonymous user (a request before login) is no actor; only a saved user is.
    actor_id = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    target_type, target_id, target_label = _target(target)
    origin = current.get()
    AuditEvent.objects.create(
        workspace_id=workspace_id, actor_id=actor_id,
        actor_label=_text(getattr(actor, "email", ""), 254) if actor_id else "",
        action=action, target_type=target_type, target_id=target_id, target_label=target_label,
        summary=_text(summary, SUMMARY_MAX), details=_details(details),
        ip=origin.ip, user_agent=origin.user_agent)


def prune(*, now: datetime | None = None, days: int | None = None) -> int:
    """Delete events older than ``AUDIT_RETENTION_DAYS`` (0: keep them all); how many went."""
    days = settings.AUDIT_RETENTION_DAYS if days is None else days
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = AuditEvent.objects.filter(created_at__lt=cutoff).delete()
    if deleted:
        log.info("audit: pruned %s events older than %s days", deleted, days)
    return deleted


def csv_rows(events: Iterable[AuditEvent]) -> Iterable[list[str]]:
    yield CSV_COLUMNS
    for e in events:
        yield [escape_formula(str(c)) for c in (
            e.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            e.actor_label or "system", e.action, e.target_type, e.target_id, e.target_label,
            e.summary, json.dumps(e.details, ensure_ascii=False) if e.details else "",
            e.ip or "", e.user_agent)]


def to_csv(events: models.QuerySet[AuditEvent]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in csv_rows(events.iterator(chunk_size=1000)):
        writer.writerow(row)
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8
