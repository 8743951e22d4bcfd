"""The error of bulk runs, shown to the user as is."""

from __future__ import annotations

from copywriter.core.errors import UserError


class BulkError(UserError):
    pass
