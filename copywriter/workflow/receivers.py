from __future__ import annotations

from typing import Any

from copywriter.documents.signals import document_changed
from copywriter.workflow import services


def _document_changed(sender: Any, document_id: int, **kwargs: Any) -> None:
    # In the save's transaction: an approved or published document edited is a draft again.
    services.document_edited(document_id)


def connect() -> None:
    document_changed.connect(_document_changed, weak=False, dispatch_uid="workflow-edited")
