from __future__ import annotations

from typing import Any

from copywriter.accounts.models import User
from copywriter.core import scopes


def _user_scopes(user: User, update_fields: Any = None, **kwargs: Any) -> list[str]:
    # A login saves last_login only: that changes no page and no access.
    if update_fields and set(update_fields) <= {"last_login"}:
        return []
    return [scopes.PEOPLE, scopes.account(user.pk)]


def connect() -> None:
    scopes.invalidate_on(User, _user_scopes)
