from __future__ import annotations

from copywriter.core import scopes
from copywriter.voices.models import BrandVoice


def connect() -> None:
    # A ready voice is a tone in the generate form.
    scopes.invalidate_on(BrandVoice, lambda v, **kw: [scopes.voices(v.workspace_id)])
