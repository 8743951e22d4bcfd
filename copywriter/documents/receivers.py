from __future__ import annotations

from copywriter.core import scopes
from copywriter.documents.models import Document


def connect() -> None:
    scopes.invalidate_on(Document, lambda d, **kw: [scopes.documents(d.workspace_id)])
