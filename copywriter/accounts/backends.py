"""The login backend: Django's, with the per-request user lookup kept per process (``core.scopes``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from copywriter.core import scopes


class CachedModelBackend(ModelBackend):
    """Every request reads its user by id; that row is kept per process until the user is saved
    (the token of ``scopes.account``), so a password change or a deactivation still logs the
    sessions out on their next request (the session hash and ``is_active`` are checked on the
    fresh row)."""

    def get_user(self, user_id: Any) -> Any:
        return scopes.remembered("user", [scopes.account(user_id)],
                                 lambda: super(CachedModelBackend, self).get_user(user_id))
