from __future__ import annotations

from copywriter.catalog.models import Favourite, Template
from copywriter.core import scopes


def connect() -> None:
    scopes.invalidate_on(Template, lambda t, **kw: [scopes.templates(t.workspace_id)])
    scopes.invalidate_on(Favourite, lambda f, **kw: [scopes.favourites(f.user_id)])
