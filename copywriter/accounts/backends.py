"""The login backend: Django's, with the per-request user lookup kept by the page cache."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from copywriter.core import pagecache


class CachedModelBackend(ModelBackend):
    """Every request reads its user by id; that row is kept per process until the user is saved
    (the token of ``pagecache.account``), so a password change or a deactivation still logs the
    sessions out on their next request (the session hash and ``is_active`` are checked on the
    fresh row)."""

    def get_user(self, user_id: Any) -> Any:
        return pagecache.remembered("user", [pagecache.account(user_id)],
                                    lambda: super(CachedModelBackend, self).get_user(user_id))
