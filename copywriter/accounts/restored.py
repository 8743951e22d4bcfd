"""Users created by ``manage.py restore``: they have no password yet, and "Forgot password" is
their way in (SECURITY.md says so).

Django's reset form skips every user whose password is unusable, since that is also how an
administrator locks an account or marks one that signs in elsewhere. So the mark is not "no
usable password" but a password field that only a restore writes: Django's unusable prefix
("!", which ``has_usable_password`` refuses and no hasher produces) followed by ``restored:``
and a random string. It lives in the user's row (no migration, nothing to keep in step) and
disappears the moment anything sets or clears the password: a reset, a password change, or an
administrator's ``set_unusable_password``, which ends the restored user's reset path as it
ends everyone's.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX

from copywriter.accounts.models import User

RESTORED_PREFIX = f"{UNUSABLE_PASSWORD_PREFIX}restored:"


def mark_restored_without_password(user: User) -> None:
    """Give ``user`` (not saved here) no usable password, marked as waiting for a reset."""
    user.password = RESTORED_PREFIX + secrets.token_urlsafe(30)


def restored_without_password(user: User) -> bool:
    return user.password.startswith(RESTORED_PREFIX)


class RestoredAwarePasswordResetForm(PasswordResetForm):
    """Django's reset form, that also serves active users restored without a password. Other
    users with an unusable password (locked by an administrator) still get no email, and the
    page says the same thing whoever asks, as Django's does."""

    def get_users(self, email: str) -> Iterator[Any]:
        yield from super().get_users(email)
        yield from (u for u in User.objects.filter(email__iexact=email, is_active=True)
                    if restored_without_password(u) and u.email.lower() == email.lower())

