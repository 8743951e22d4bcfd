from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from copywriter.accounts.models import User
from copywriter.accounts.signals import user_created
from copywriter.core.counters import bump

# C0 and C1 controls (category Cc), the line and paragraph separators (Zl, Zp), and the
# bidirectional marks, overrides and isolates that reorder what is shown ("gnp.exe"). Zero-width
# joiners, which emoji sequences need, stay allowed. One regex: a 1 MB name is checked in
# milliseconds.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e"
                      "\u2066-\u2069]")


def reject_control_characters(value: str) -> None:
    """Names end up in email headers and page titles: a line break there breaks the header
    (Django refuses to send it, BadHeaderError) and other control characters hide or reorder
    text. Tabs included."""
    if _CONTROL.search(value):
        raise ValidationError("Names cannot contain line breaks, tabs or other control "
                              "characters; type the name on one line.")


def user_create(*, email: str, password: str, name: str = "",
                password_hash: str | None = None) -> User:
    """``password_hash``: an already hashed password (a confirmed sign-up stored the hash, never
    the password)."""
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, first_name=name)
        if password_hash:
            user.password = password_hash
            user.save(update_fields=["password"])
        user_created.send(sender=User, user=user)  # the first workspace, or no account
    return user


# --- sign-up: the same answer whether or not the address has an account ----------------------

SIGNUP_TTL = 24 * 3600


class SignupThrottled(Exception):
    pass


def _pending_key(token: str) -> str:
    return f"signup-pending:{hashlib.sha256(token.encode()).hexdigest()}"


def signup_start(*, email: str, password: str, name: str, next_url: str, address: str) -> None:
    """Mail a link that finishes the sign-up, or, when the address already has an account, a
    note saying so with the login and reset links. The caller shows the same page either way, so
    sign-up does not tell anyone which addresses are registered. The password is hashed now, in
    both cases (the same work, so the same time), and only the hash is kept until the link is
    used."""
    if bump(f"signup-addr:{address}:{timezone.now():%Y%m%d%H}", timeout=3600) > \
            settings.SIGNUPS_PER_ADDRESS_PER_HOUR:
        raise SignupThrottled(f"Too many sign-ups from your address this hour (the limit is "
                              f"{settings.SIGNUPS_PER_ADDRESS_PER_HOUR}). Try again in an hour.")
    password_hash = make_password(password)
    site = settings.SITE_URL.rstrip("/")
    if User.objects.filter(email__iexact=email).exists():
        send_mail(
            subject="Someone tried to sign up with your address",
            message=("Someone (perhaps you) tried to create a copywriter account with this "
                     "address, which already has one. Nothing was changed.\n\n"
                     f"Log in: {site}{reverse('accounts:login')}\n"
                     f"Forgot your password? Reset it: {site}{reverse('accounts:password_reset')}"
                     "\n\nIf this was not you, you can ignore this email."),
            from_email=None, recipient_list=[email])
        return
    token = secrets.token_urlsafe(32)
    cache.set(_pending_key(token), {"email": email, "name": name, "password": password_hash,
                                    "next": next_url}, timeout=SIGNUP_TTL)
    send_mail(
        subject="Finish creating your copywriter account",
        message=("Open this link to finish creating your account (it works for 24 hours):\n\n"
                 f"{site}{reverse('accounts:signup_confirm', args=[token])}\n\n"
                 "If you did not sign up, ignore this email: no account is made without it."),
        from_email=None, recipient_list=[email])


def signup_pending(*, token: str) -> dict[str, Any] | None:
    return cache.get(_pending_key(token))  # type: ignore[no-any-return]


class SignupUnusable(Exception):
    pass


def signup_confirm(*, token: str) -> tuple[User, str]:
    """The account the link stands for, made now; and where the user was going."""
    key = _pending_key(token)
    pending = cache.get(key)
    if not pending:
        raise SignupUnusable("This sign-up link has expired or was already used. Sign up again.")
    with transaction.atomic():
        if User.objects.filter(email__iexact=pending["email"]).exists():
            cache.delete(key)
            raise SignupUnusable("This address already has an account: log in, or reset the "
                                 "password if you forgot it.")
        user = user_create(email=pending["email"], password="", name=pending["name"],
                           password_hash=pending["password"])
    cache.delete(key)
    return user, str(pending.get("next") or "")


# --- login throttling ---------------------------------------------------------------------------
#
# Behind a proxy the old key (email, connecting address) was (email, proxy): ten wrong guesses by
# anyone locked the account for everyone. Now the address is the client's (core.clientip) and
# there are three budgets of failures per 15 minutes:
#   - per account and address (LOGIN_ATTEMPTS_PER_15_MIN): above it that pair waits, the right
#     password included, so guessing cannot continue through it; others are not affected;
#   - per address across accounts (LOGIN_ADDRESS_ATTEMPTS_PER_15_MIN): spraying many accounts;
#   - per account across addresses (LOGIN_ACCOUNT_ATTEMPTS_PER_15_MIN): guessing from many
#     addresses. Above it, a browser that logged in to this account before (a signed device
#     cookie, OWASP's "device cookies") still gets in with the right password; other browsers
#     are told to use one of those or reset the password by email. The owner is never locked
#     out by someone else: their own browser, or the reset link, always works.
# A known browser has its own budget (per account and device) and skips the three above.

WINDOW = 15 * 60
DEVICE_SALT = "copywriter.accounts.login-device"
DEVICE_MAX_AGE = 180 * 86400


def device_cookie_name(email: str) -> str:
    return "cw_device_" + hashlib.sha256(email.lower().encode()).hexdigest()[:12]


def device_cookie_value(email: str) -> str:
    return signing.dumps({"e": email.lower(), "n": secrets.token_hex(8)}, salt=DEVICE_SALT)


def device_id(*, email: str, cookie: str | None) -> str | None:
    """The device's id when ``cookie`` is a valid device cookie for ``email``, else None."""
    if not cookie:
        return None
    try:
        data = signing.loads(cookie, salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("e") != email.lower():
        return None
    return str(data.get("n", ""))


@dataclass(frozen=True)
class LoginAttempt:
    email: str
    address: str
    device: str | None = None  # a browser that logged in to this account before

    def budgets(self) -> list[tuple[str, int]]:
        email = hashlib.sha256(self.email.lower().encode()).hexdigest()[:32]
        if self.device is not None:
            return [(f"login-fail-dev:{email}:{self.device}", settings.LOGIN_ATTEMPTS_PER_15_MIN)]
        return [(f"login-fail:{email}:{self.address}", settings.LOGIN_ATTEMPTS_PER_15_MIN),
                (f"login-fail-addr:{self.address}", settings.LOGIN_ADDRESS_ATTEMPTS_PER_15_MIN),
                (f"login-fail-acct:{email}", settings.LOGIN_ACCOUNT_ATTEMPTS_PER_15_MIN)]


def login_refusal(*, attempt: LoginAttempt) -> str | None:
    """Why this attempt must wait, or None when it may try."""
    keys = attempt.budgets()
    counts = cache.get_many([key for key, _ in keys])
    (pair, pair_limit), *rest = keys
    if int(counts.get(pair, 0)) >= pair_limit:
        return ("Too many failed attempts for this account from your address. Wait 15 minutes, "
                "or reset your password.")
    if rest:
        (addr, addr_limit), (acct, acct_limit) = rest
        if int(counts.get(addr, 0)) >= addr_limit:
            return ("Too many failed logins from your address. Wait 15 minutes, or reset your "
                    "password.")
        if int(counts.get(acct, 0)) >= acct_limit:
            return ("This account is receiving many wrong passwords from other places, so it "
                    "only accepts logins from browsers that logged in to it before. Use one of "
                    "those, or reset your password by email.")
    return None


def login_failed(*, attempt: LoginAttempt) -> None:
    for key, _ in attempt.budgets():
        bump(key, timeout=WINDOW)


def login_succeeded(*, attempt: LoginAttempt) -> None:
    """Only the account's own budget from here is reset: the address's budget across accounts
    is not, or logging in to one's own account would buy another round of spraying."""
    cache.delete(attempt.budgets()[0][0])
