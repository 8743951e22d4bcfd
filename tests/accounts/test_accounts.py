from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from copywriter.accounts.models import User
from copywriter.workspaces.models import Membership, Role
from tests.support.cast import PASSWORD


def test_signup_creates_account_and_an_owned_workspace(db):
    client = Client()
    response = client.post(reverse("accounts:signup"),
                           {"name": "Dana", "email": "Dana@Example.com", "password": PASSWORD})
    # The account is made by the link emailed to the address (sign-up says nothing about
    # which addresses are registered: tests/security/test_account_lifecycle.py).
    assert response.status_code == 200 and "Check your inbox" in response.content.decode()
    assert not User.objects.filter(email="dana@example.com").exists()
    link = re.search(r"https?://[^/]+(/accounts/signup/confirm/\S+)", mail.outbox[0].body).group(1)
    assert client.get(link).status_code == 200
    response = client.post(link)
    assert response.status_code == 302
    user = User.objects.get(email="dana@example.com")
    assert user.check_password(PASSWORD) and user.first_name == "Dana"
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.OWNER
    home = client.get(reverse("workspaces:home"))
    assert home.status_code == 302 and home.url == reverse("documents:list",
                                                           args=[membership.workspace_id])
    assert client.post(link).status_code == 410  # one use



def test_an_account_is_never_made_without_its_first_workspace(db, settings):
    """accounts knows nothing of workspaces (workspaces makes the first one on ``user_created``):
    the two are still one transaction."""
    from django.core.exceptions import ValidationError

    from copywriter.accounts.services import user_create

    settings.WORKSPACES_PER_USER = 0  # the first workspace is refused
    with pytest.raises(ValidationError):
        user_create(email="dana@example.com", password=PASSWORD, name="Dana")
    assert not User.objects.filter(email="dana@example.com").exists()
    settings.WORKSPACES_PER_USER = 1  # the control: allowed, both are made
    user = user_create(email="dana@example.com", password=PASSWORD, name="Dana")
    assert Membership.objects.get(user=user).role == Role.OWNER

def test_signup_errors_are_shown_next_to_the_field(cast):
    response = Client().post(reverse("accounts:signup"),
                             {"name": "X", "email": "not-an-address", "password": "123"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid email address" in html
    assert "This password is too short" in html


def test_login_logout_and_throttling(cast, settings):
    settings.LOGIN_ATTEMPTS_PER_15_MIN = 3
    client = Client()
    url = reverse("accounts:login")
    for _ in range(3):
        assert client.post(url, {"username": "alice@example.com", "password": "wrong"}).status_code == 200
    blocked = client.post(url, {"username": "alice@example.com", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.content.decode()
    # Another account from the same address is unaffected.
    assert client.post(url, {"username": "bob@example.com", "password": PASSWORD}).status_code == 302
    assert client.post(reverse("accounts:logout")).status_code == 302


def test_password_reset_email_link_sets_a_new_password(cast):
    client = Client()
    client.post(reverse("accounts:password_reset"), {"email": "bob@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    new = "another long passphrase 9"
    done = client.post(form_page.redirect_chain[-1][0],
                       {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    assert Client().login(email="bob@example.com", password=new)


def test_password_change(bob_client):
    response = bob_client.post(reverse("accounts:password_change"), {
        "old_password": PASSWORD, "new_password1": "fresh long pass 77", "new_password2": "fresh long pass 77"})
    assert response.status_code == 302
    assert Client().login(email="bob@example.com", password="fresh long pass 77")
