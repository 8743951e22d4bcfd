from __future__ import annotations

from copywriter.core import scopes
from copywriter.generation.models import Generation


def connect() -> None:
    # Only a new generation changes "Recently used"; progress saves do not.
    scopes.invalidate_on(Generation, lambda g, created=True, **kw:
                         [scopes.recent(g.created_by_id)] if created else [])
