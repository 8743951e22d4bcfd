from __future__ import annotations

from typing import Any

from copywriter.documents.signals import document_changed
from copywriter.originality import services


def _reindex(sender: Any, document_id: int, **kwargs: Any) -> None:
    # Looked up on each call, so a test's patch of the scheduler is the one that runs.
    services.schedule_document_index(document_id=document_id)


def connect() -> None:
    document_changed.connect(_reindex, dispatch_uid="originality-reindex")
