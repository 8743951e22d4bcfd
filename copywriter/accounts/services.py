from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from copywriter.accounts.models import User


def user_create(*, email: str, password: str, name: str = "") -> User:
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, first_name=name)
        from copywriter.workspaces.services import workspace_create

        workspace_create(owner=user, name=f"{user.display_name}'s workspace")
    return user


def _login_key(email: str, ip: str) -> str:
    return f"login-fail:{email.lower()}:{ip}"


def login_throttled(*, email: str, ip: str) -> bool:
    return int(cache.get(_login_key(email, ip), 0)) >= settings.LOGIN_ATTEMPTS_PER_15_MIN


def login_failed(*, email: str, ip: str) -> None:
    key = _login_key(email, ip)
    if cache.add(key, 1, timeout=15 * 60):
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=15 * 60)


def login_succeeded(*, email: str, ip: str) -> None:
    cache.delete(_login_key(email, ip))
