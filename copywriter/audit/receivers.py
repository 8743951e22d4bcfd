"""The apps below audit announce their changes by signal; the apps above call ``record``."""

from __future__ import annotations

from typing import Any

from copywriter.audit.services import record
from copywriter.workspaces.signals import membership_changed


def _workspace_event(sender: Any, *, workspace: Any, actor: Any, action: str, target: Any = None,
                     summary: str = "", details: dict[str, Any] | None = None,
                     **kwargs: Any) -> None:
    record(workspace=workspace, actor=actor, action=action, target=target, summary=summary,
           details=details)


def connect() -> None:
    membership_changed.connect(_workspace_event, dispatch_uid="audit-workspace-event")
