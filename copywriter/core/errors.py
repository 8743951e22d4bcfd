"""The one base of the errors a user is shown: each app subclasses it, and the API answers every
one of them in a single handler (``api/errors.py``).

``status`` is the HTTP answer. ``permanent`` says whether trying the same again can help: a bad
input never will (permanent: recorded on the row and shown), a spent rate or quota will later
(transient: the caller waits and retries). ``retry_after``, for a transient error, is how many
seconds to wait; the API sends it as ``Retry-After``.
"""

from __future__ import annotations


class UserError(Exception):
    def __init__(self, message: str, *, status: int = 400, permanent: bool = True,
                 field_errors: dict[str, str] | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.permanent = permanent
        self.field_errors = field_errors or {}
        self.retry_after = retry_after
