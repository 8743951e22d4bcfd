"""The audit trail's one door: ``record`` (the contract every app above calls).

CONTRACT STUB: the audit helper replaces the body with the real row-writing code; the signature
is fixed so the apps that record events can be written against it at the same time.
"""

from __future__ import annotations

from typing import Any


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
    return None
