"""Issue 18, accounts and members: hostile members and hostile strangers against sign-up, login,
invitations, tokens, workspace names, the generation limits and /healthz."""

from __future__ import annotations

import json
import re
import smtplib
import time
import tracemalloc

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from copywriter.accounts.models import User
from copywriter.accounts.services import user_create
from copywriter.api.models import ApiToken
from copywriter.api.services import token_create
from copywriter.core.clientip import client_address
from copywriter.generation.models import Generation
from copywriter.generation.services import GenerationError, generation_create
from copywriter.ops import health
from copywriter.workspaces import services as ws_services
from copywriter.workspaces.models import Invitation, Membership, Role, Workspace
from tests.support.cast import PASSWORD, client_for
from tests.support.report import report

LOGIN = "/accounts/login/"
GOOD_FIELDS = {"product": "Fernway boots", "benefit": "Free returns"}


def _accept(user, inv) -> int:
    return client_for(user).post(reverse("workspaces:accept", args=[inv.token])).status_code


def _login(client: Client, email: str, password: str, *, via: str | None = None) -> int:
    extra = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": via} if via else {}
    return client.post(LOGIN, {"username": email, "password": password}, **extra).status_code


# --- 5. invitations speak for their maker only while the maker is an owner ----------------------

def test_removed_owner_cannot_take_the_workspace_back_through_their_link(cast):
    bob_owner = ws_services.member_set_role(membership=cast.alice_m, member_id=cast.bob_m.pk,
                                            role=Role.OWNER)
    link = ws_services.invitation_create(membership=bob_owner, role=Role.OWNER)
    ws_services.member_remove(membership=cast.alice_m, member_id=cast.bob_m.pk)

    assert _accept(cast.bob, link) == 410
    assert not Membership.objects.filter(workspace=cast.ws, user=cast.bob).exists()
    assert Membership.objects.get(workspace=cast.ws, user=cast.alice).role == Role.OWNER
    assert Invitation.objects.get(pk=link.pk).revoked_at is not None


def test_demoted_owners_email_invitation_dies(cast):
    bob_owner = ws_services.member_set_role(membership=cast.alice_m, member_id=cast.bob_m.pk,
                                            role=Role.OWNER)
    inv = ws_services.invitation_create(membership=bob_owner, email="dana@example.com",
                                        role=Role.OWNER)
    ws_services.member_set_role(membership=cast.alice_m, member_id=cast.bob_m.pk,
                                role=Role.EDITOR)
    dana = user_create(email="dana@example.com", password=PASSWORD, name="Dana")
    assert _accept(dana, inv) == 410
    assert not Membership.objects.filter(workspace=cast.ws, user=dana).exists()
    # Promoted again, the old invitation stays dead: revoked is for good.
    ws_services.member_set_role(membership=cast.alice_m, member_id=cast.bob_m.pk, role=Role.OWNER)
    assert _accept(dana, inv) == 410


def test_owner_who_leaves_takes_their_invitations_with_them(cast):
    bob_owner = ws_services.member_set_role(membership=cast.alice_m, member_id=cast.bob_m.pk,
                                            role=Role.OWNER)
    link = ws_services.invitation_create(membership=bob_owner, role=Role.EDITOR)
    ws_services.workspace_leave(membership=bob_owner)
    assert _accept(cast.charlie, link) == 410
    assert not Membership.objects.filter(workspace=cast.ws, user=cast.charlie).exists()


def test_invitation_is_rechecked_at_use_when_its_maker_lost_the_role_some_other_way(cast):
    """A role changed outside the services (admin, a script, rows from before this fix) still
    ends the maker's invitations: the check is made again when one is used or shown."""
    Membership.objects.filter(pk=cast.bob_m.pk).update(role=Role.OWNER)
    bob_owner = Membership.objects.get(pk=cast.bob_m.pk)
    link = ws_services.invitation_create(membership=bob_owner, role=Role.OWNER)
    Membership.objects.filter(pk=cast.bob_m.pk).update(role=Role.VIEWER)
    page = client_for(cast.charlie).get(reverse("workspaces:accept", args=[link.token]))
    assert page.status_code == 410
    assert _accept(cast.charlie, link) == 410
    assert not Membership.objects.filter(workspace=cast.ws, user=cast.charlie).exists()


def test_invitation_list_shows_who_made_each(alice_client, cast):
    ws_services.invitation_create(membership=cast.alice_m, email="dana@example.com")
    html = alice_client.get(reverse("workspaces:members", args=[cast.ws.pk])).content.decode()
    table = html[html.index("Open invitations"):]
    assert "Made by" in table
    row = table[table.index("dana@example.com"):table.index("</tr>", table.index("dana@example.com"))]
    assert "alice@example.com" in row


# --- 7. login throttling: the client's address, three budgets, no lock-out by others -----------

def test_client_address_is_read_from_trusted_proxies_only(rf, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    behind = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert client_address(behind) == "203.0.113.9"  # the left end is what the client wrote
    two_hops = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.7")
    assert client_address(two_hops) == "203.0.113.9"
    direct = rf.get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_address(direct) == "198.51.100.4"  # not a proxy of ours: the header is a lie
    settings.TRUSTED_PROXIES = []
    assert client_address(behind) == "10.0.0.2"


def test_guesses_behind_the_proxy_do_not_lock_out_the_owner(cast, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.LOGIN_ATTEMPTS_PER_15_MIN = 3
    attacker = Client()
    codes = [_login(attacker, "alice@example.com", "wrong", via="203.0.113.66") for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    # The attacker cannot get through with the right password either...
    assert _login(attacker, "alice@example.com", PASSWORD, via="203.0.113.66") == 429
    # ...but Alice, behind the same proxy from her own address, logs in.
    assert _login(Client(), "alice@example.com", PASSWORD, via="198.51.100.20") == 302


def test_spraying_many_accounts_from_one_address_is_throttled(cast, settings):
    """5 accounts x 9 guesses went unthrottled (9 < 10 per account); the address's budget
    across accounts (30) stops it."""
    user_create(email="erin@example.com", password=PASSWORD, name="Erin")
    emails = ["alice", "bob", "vera", "charlie", "erin"]
    attacker = Client()
    codes = [_login(attacker, f"{name}@example.com", "wrong") for _ in range(9) for name in emails]
    assert codes.count(200) == settings.LOGIN_ADDRESS_ATTEMPTS_PER_15_MIN == 30
    assert set(codes[30:]) == {429}
    page = attacker.post(LOGIN, {"username": "erin@example.com", "password": "wrong"})
    assert "Too many failed logins from your address" in page.content.decode()


def test_a_browser_that_logged_in_before_gets_in_while_its_address_is_locked(cast, settings):
    """Office NAT: a colleague (or an attacker on the same network) locked the pair (alice,
    address). Alice's own browser, which logged in before, still gets in; a new browser waits."""
    settings.LOGIN_ATTEMPTS_PER_15_MIN = 3
    mine = Client()
    assert _login(mine, "alice@example.com", PASSWORD) == 302
    mine.post(reverse("accounts:logout"))
    stranger = Client()
    for _ in range(3):
        assert _login(stranger, "alice@example.com", "wrong") == 200
    assert _login(stranger, "alice@example.com", PASSWORD) == 429
    assert _login(mine, "alice@example.com", PASSWORD) == 302


def test_guessing_one_account_from_many_addresses_is_capped(cast, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.LOGIN_ACCOUNT_ATTEMPTS_PER_15_MIN = 6
    mine = Client()
    assert _login(mine, "alice@example.com", PASSWORD, via="198.51.100.20") == 302
    mine.post(reverse("accounts:logout"))
    for i in range(6):  # two guesses each from three addresses: under the per-address limits
        assert _login(Client(), "alice@example.com", "wrong", via=f"203.0.113.{i // 2}") == 200
    refused = Client().post(LOGIN, {"username": "alice@example.com", "password": PASSWORD},
                            REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert refused.status_code == 429
    assert "browsers that logged in to it before" in refused.content.decode()
    assert _login(mine, "alice@example.com", PASSWORD, via="198.51.100.99") == 302


def test_password_reset_lets_the_owner_back_in_while_the_account_is_under_attack(cast, settings):
    """The refusal says "reset your password by email": that way must work from a new browser."""
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.LOGIN_ACCOUNT_ATTEMPTS_PER_15_MIN = 3
    for i in range(3):
        assert _login(Client(), "alice@example.com", "wrong", via=f"203.0.113.{i}") == 200
    new = Client()
    assert _login(new, "alice@example.com", PASSWORD, via="198.51.100.7") == 429
    new.post(reverse("accounts:password_reset"), {"email": "alice@example.com"})
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+)", mail.outbox[-1].body).group(1)
    form_url = new.get(link, follow=True).redirect_chain[-1][0]
    fresh = "a brand new passphrase 77"
    assert new.post(form_url, {"new_password1": fresh, "new_password2": fresh}).status_code == 302
    assert int(new.session["_auth_user_id"]) == cast.alice.pk  # logged in by the reset
    new.post(reverse("accounts:logout"))
    assert _login(new, "alice@example.com", fresh, via="198.51.100.8") == 302  # a known browser now
    assert _login(Client(), "alice@example.com", fresh, via="198.51.100.9") == 429  # others wait


def test_forged_device_cookie_is_worth_nothing(cast, settings):
    """Only a signed cookie made for this account skips the address's budgets: otherwise a
    guesser would write a new "device" into each request and never be throttled."""
    from copywriter.accounts.services import device_cookie_name, device_cookie_value

    settings.LOGIN_ATTEMPTS_PER_15_MIN = 2
    guesser = Client()
    for _ in range(2):
        assert _login(guesser, "alice@example.com", "wrong") == 200
    assert _login(guesser, "alice@example.com", PASSWORD) == 429
    guesser.cookies[device_cookie_name("alice@example.com")] = "e30:forged:signature"
    assert _login(guesser, "alice@example.com", PASSWORD) == 429
    # A real cookie, made for another account, does not open this one.
    guesser.cookies[device_cookie_name("alice@example.com")] = device_cookie_value("bob@example.com")
    assert _login(guesser, "alice@example.com", PASSWORD) == 429


# --- 8. limits per user and per deployment; a cap on workspaces; sign-up throttled ---------------

def _owned_workspaces(user, n: int) -> list[Membership]:
    for i in range(n):
        ws_services.workspace_create(owner=user, name=f"Spare {i}")
    return list(Membership.objects.filter(user=user, role=Role.OWNER).order_by("workspace_id"))


def test_more_workspaces_do_not_multiply_the_per_minute_rate(cast, ad_template, sent, settings):
    settings.GENERATION_RATE_PER_MINUTE = settings.GENERATION_USER_RATE_PER_MINUTE = 2
    first, second, third = _owned_workspaces(cast.charlie, 2)
    for _ in range(2):
        generation_create(membership=first, template=ad_template, fields=GOOD_FIELDS,
                          tone="witty")
    for m in (second, third):
        with pytest.raises(GenerationError) as refused:
            generation_create(membership=m, template=ad_template, fields=GOOD_FIELDS,
                              tone="witty")
        assert refused.value.status == 429 and "your account" in refused.value.message
    assert Generation.objects.count() == len(sent) == 2


def test_more_workspaces_do_not_multiply_the_daily_quota(cast, ad_template, sent, settings):
    settings.GENERATION_USER_DAILY_QUOTA = 1
    first, second = _owned_workspaces(cast.charlie, 1)
    generation_create(membership=first, template=ad_template, fields=GOOD_FIELDS, tone="witty")
    with pytest.raises(GenerationError) as refused:
        generation_create(membership=second, template=ad_template, fields=GOOD_FIELDS,
                          tone="witty")
    assert refused.value.status == 429 and "Your account used its 1 generations" in str(refused.value)
    assert Generation.objects.count() == 1


def test_the_api_spends_the_same_per_user_budget(cast, ad_template, sent, settings):
    settings.GENERATION_RATE_PER_MINUTE = settings.GENERATION_USER_RATE_PER_MINUTE = 1
    first, second = _owned_workspaces(cast.charlie, 1)
    generation_create(membership=first, template=ad_template, fields=GOOD_FIELDS, tone="witty")
    secret = token_create(membership=second, name="ci", role=Role.EDITOR).secret
    response = Client().post("/api/v1/generations", json.dumps(
        {"template": ad_template.slug, "tone": "witty", "fields": GOOD_FIELDS}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 429, response.content
    assert "your account" in response.json()["detail"] and response["Retry-After"]
    assert Generation.objects.count() == 1


def test_the_deployment_has_its_own_rate(cast, ad_template, sent, settings):
    settings.GENERATION_SITE_RATE_PER_MINUTE = 2
    generation_create(membership=cast.alice_m, template=ad_template, fields=GOOD_FIELDS,
                      tone="witty")
    generation_create(membership=cast.charlie_m, template=ad_template, fields=GOOD_FIELDS,
                      tone="witty")
    other = Membership.objects.get(user=user_create(email="erin@example.com", password=PASSWORD))
    with pytest.raises(GenerationError) as refused:
        generation_create(membership=other, template=ad_template, fields=GOOD_FIELDS, tone="witty")
    assert refused.value.status == 429 and "all users together" in refused.value.message
    assert Generation.objects.count() == 2


def test_a_refused_generation_spends_no_budget(cast, ad_template, sent, settings):
    """A request the user's budget refuses gives back what it took from the workspace's."""
    settings.GENERATION_RATE_PER_MINUTE, settings.GENERATION_USER_RATE_PER_MINUTE = 2, 1
    first, second = _owned_workspaces(cast.charlie, 1)
    generation_create(membership=first, template=ad_template, fields=GOOD_FIELDS, tone="witty")
    for _ in range(3):
        with pytest.raises(GenerationError) as refused:
            generation_create(membership=second, template=ad_template, fields=GOOD_FIELDS,
                              tone="witty")
        assert "your account" in refused.value.message
    settings.GENERATION_USER_RATE_PER_MINUTE = 10
    generation_create(membership=second, template=ad_template, fields=GOOD_FIELDS, tone="witty")
    generation_create(membership=second, template=ad_template, fields=GOOD_FIELDS, tone="witty")
    assert Generation.objects.count() == 3


def test_workspaces_per_user_are_capped_with_a_clear_400(charlie_client, cast, settings):
    settings.WORKSPACES_PER_USER = 3
    url = reverse("workspaces:create")
    assert [charlie_client.post(url, {"name": f"W{i}"}).status_code for i in range(2)] == [302, 302]
    refused = charlie_client.post(url, {"name": "One too many"})
    assert refused.status_code == 400
    assert "the most one person can make here (3)" in refused.content.decode()
    assert Workspace.objects.filter(created_by=cast.charlie).count() == 3
    assert not Workspace.objects.filter(name="One too many").exists()


def test_signups_are_throttled_per_address(db, settings):
    settings.SIGNUPS_PER_ADDRESS_PER_HOUR = 2
    client = Client()
    codes = [client.post(reverse("accounts:signup"), {"name": "N", "email": f"n{i}@example.com",
                                                      "password": PASSWORD}).status_code
             for i in range(3)]
    assert codes == [200, 200, 429]
    assert len(mail.outbox) == 2
    assert "Too many sign-ups from your address" in client.post(reverse("accounts:signup"), {
        "name": "N", "email": "n9@example.com", "password": PASSWORD}).content.decode()


# --- 13. a removed member's tokens stay dead -------------------------------------------------

@pytest.mark.parametrize("how", ["removed", "left"])
def test_removed_members_api_token_stays_dead_after_rejoining(cast, how):
    secret = token_create(membership=cast.bob_m, name="laptop", role=Role.EDITOR).secret
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/templates").status_code == 200
    if how == "removed":
        ws_services.member_remove(membership=cast.alice_m, member_id=cast.bob_m.pk)
    else:
        ws_services.workspace_leave(membership=cast.bob_m)
    link = ws_services.invitation_create(membership=cast.alice_m, role=Role.EDITOR)
    assert _accept(cast.bob, link) == 302  # back in the workspace
    assert api.get("/api/v1/templates").status_code == 401
    assert ApiToken.objects.get(name="laptop").revoked_at is not None


# --- 16. sign-up does not say which addresses are registered -----------------------------------

def test_signup_answer_is_the_same_for_a_registered_address(cast):
    def attempt(email: str):
        response = Client().post(reverse("accounts:signup"),
                                 {"name": "Mallory", "email": email, "password": PASSWORD + "x"})
        return response.status_code, response.content.decode().replace(email, "EMAIL")

    taken, free = attempt("alice@example.com"), attempt("nobody@example.com")
    taken_body = re.sub(r"[A-Za-z0-9]{32,}", "", taken[1])  # CSRF tokens differ per response
    free_body = re.sub(r"[A-Za-z0-9]{32,}", "", free[1])
    assert taken[0] == free[0] == 200 and taken_body == free_body
    assert "already" not in taken_body
    # The owner of the registered address hears about it, with the way back in.
    note = next(m for m in mail.outbox if m.to == ["alice@example.com"])
    assert "already has one" in note.body and "/accounts/password/reset/" in note.body
    assert User.objects.get(email="alice@example.com").check_password(PASSWORD)
    assert not User.objects.filter(email="nobody@example.com").exists()  # until the link is used


def test_signup_from_an_invitation_comes_back_to_it(cast):
    inv = ws_services.invitation_create(membership=cast.alice_m, email="dana@example.com")
    mail.outbox.clear()
    client = Client()
    next_url = reverse("workspaces:accept", args=[inv.token])
    client.post(reverse("accounts:signup") + f"?next={next_url}",
                {"name": "Dana", "email": "dana@example.com", "password": PASSWORD})
    link = re.search(r"https?://[^/]+(/accounts/signup/confirm/\S+)", mail.outbox[0].body).group(1)
    response = client.post(link)
    assert response.status_code == 302 and response.url == next_url
    assert client.post(next_url).status_code == 302
    assert Membership.objects.filter(workspace=cast.ws, user__email="dana@example.com").exists()


# --- 18. names without control characters; an invitation's email cannot half-fail ---------------

@pytest.mark.parametrize("name", ["Acme\nBcc: all@example.com", "Acme\rX", "Tab\there",
                                  "Acme\u2028line", "gnp.exe\u202e"])
def test_control_characters_in_a_workspace_name_are_refused(alice_client, cast, name):
    for url in (reverse("workspaces:settings", args=[cast.ws.pk]), reverse("workspaces:create")):
        response = alice_client.post(url, {"name": name})
        assert response.status_code == 400, url
        assert "line breaks, tabs or other control characters" in response.content.decode()
    assert Workspace.objects.get(pk=cast.ws.pk).name == "Acme marketing"
    assert not Workspace.objects.filter(name=name).exists()


def test_emoji_names_with_joiners_are_still_fine(alice_client, cast):
    name = "Team \U0001f469\u200d\U0001f4bb"
    response = alice_client.post(reverse("workspaces:settings", args=[cast.ws.pk]), {"name": name})
    assert response.status_code == 302
    assert Workspace.objects.get(pk=cast.ws.pk).name == name


def test_signup_name_with_a_newline_is_refused(db):
    response = Client().post(reverse("accounts:signup"), {
        "name": "Eve\nBcc: all@example.com", "email": "eve@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "line breaks" in response.content.decode() and not mail.outbox


def test_invitation_to_a_workspace_whose_name_holds_a_newline_is_sent(alice_client, cast):
    """Names stored before they were checked: the email goes out with the name on one line."""
    Workspace.objects.filter(pk=cast.ws.pk).update(name="Acme\nBcc: all@example.com")
    cast.alice.first_name = "Alice\r\nX-Evil: 1"
    User.objects.filter(pk=cast.alice.pk).update(first_name=cast.alice.first_name)
    from copywriter.core import pagecache

    pagecache.clear()
    response = alice_client.post(reverse("workspaces:invite", args=[cast.ws.pk]),
                                 {"email": "dana@example.com", "role": "editor", "days": 7})
    assert response.status_code == 302
    assert Invitation.objects.filter(email="dana@example.com").count() == 1
    [sent] = mail.outbox
    assert sent.subject == "Alice X-Evil: 1 invited you to Acme Bcc: all@example.com"
    assert sent.message()["Bcc"] is None


def test_invitation_whose_email_fails_is_not_stored(alice_client, cast, monkeypatch):
    def down(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("copywriter.workspaces.services.send_mail", down)
    response = alice_client.post(reverse("workspaces:invite", args=[cast.ws.pk]),
                                 {"email": "dana@example.com", "role": "editor", "days": 7})
    assert response.status_code == 400
    assert "could not be sent" in response.content.decode()
    assert 'value="dana@example.com"' in response.content.decode()  # the form as typed
    assert not Invitation.objects.filter(email="dana@example.com").exists()


# --- 21. /healthz: anonymous callers get the status only ------------------------------------------

@pytest.fixture
def failing_health(monkeypatch):
    health.clear_cache()
    monkeypatch.setattr(health, "check_database", lambda: health.Check(True, "postgresql"))
    monkeypatch.setattr(health, "check_broker", lambda: health.Check(True, "redis"))
    monkeypatch.setattr(health, "check_workers", lambda: health.Check(
        False, "OperationalError: could not connect to gpu-box-17.internal:6379 (secret-host)"))
    yield
    health.clear_cache()


def test_anonymous_healthz_shows_the_status_but_no_hosts_or_errors(db, failing_health, settings):
    settings.HEALTH_DETAILS_TOKEN = "monitoring-token"
    for headers in ({}, {"HTTP_X_HEALTH_TOKEN": "wrong"}):
        response = Client().get("/healthz", **headers)
        assert response.status_code == 503
        assert response.json() == {"status": "fail", "failed": ["worker"], "checks": {
            "database": {"ok": True}, "broker": {"ok": True}, "worker": {"ok": False}}}
        assert b"gpu-box" not in response.content and b"Error" not in response.content


def test_staff_and_the_monitoring_token_see_healthz_details(cast, failing_health, settings):
    settings.HEALTH_DETAILS_TOKEN = "monitoring-token"
    by_token = Client().get("/healthz", HTTP_X_HEALTH_TOKEN="monitoring-token").json()
    assert "gpu-box-17" in by_token["checks"]["worker"]["detail"]
    User.objects.filter(pk=cast.alice.pk).update(is_staff=True)
    from copywriter.core import pagecache

    pagecache.clear()
    assert "gpu-box-17" in client_for(cast.alice).get("/healthz").json()["checks"]["worker"]["detail"]
    assert "detail" not in client_for(cast.bob).get("/healthz").json()["checks"]["worker"]
    settings.HEALTH_DETAILS_TOKEN = ""  # no token set: an empty header is not a match
    assert "detail" not in Client().get("/healthz", HTTP_X_HEALTH_TOKEN="").json()["checks"]["worker"]


# --- cost: hostile input to these pages answers fast, in bounded memory, 4xx when refused ---------

def _hostile_requests(cast, inv_token: str) -> list[tuple[str, str, str, dict, dict, set[int]]]:
    """(label, user, url, data, headers, acceptable statuses)."""
    long_xff = ", ".join(f"203.0.{i // 256 % 256}.{i % 256}" for i in range(5000))
    settings_url = reverse("workspaces:settings", args=[cast.ws.pk])
    invite_url = reverse("workspaces:invite", args=[cast.ws.pk])
    signup = reverse("accounts:signup")
    control = "".join(chr(c) for c in range(1, 32))  # NUL: the input guard's 400 + "\x7f\x85\u2028\u2029\u202e"
    return [
        ("login, 5000-hop X-Forwarded-For", "anon", LOGIN,
         {"username": "alice@example.com", "password": "x"},
         {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": long_xff}, {200}),
        ("login, garbage X-Forwarded-For", "anon", LOGIN,
         {"username": "alice@example.com", "password": "x"},
         {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "x" * 100_000}, {200}),
        ("login, 1 MB email", "anon", LOGIN, {"username": "a" * 1_000_000, "password": "x"},
         {}, {200, 413}),
        ("login, 1 MB password", "anon", LOGIN,
         {"username": "alice@example.com", "password": "p" * 1_000_000}, {}, {200, 413}),
        ("login, huge device cookie", "anon", LOGIN,
         {"username": "alice@example.com", "password": "x"},
         {"HTTP_COOKIE": "cw_device_0=" + "A" * 50_000}, {200}),
        ("sign-up, control characters in the name", "anon", signup,
         {"name": control, "email": "z@example.com", "password": PASSWORD}, {}, {400}),
        ("sign-up, 100 kB name", "anon", signup,
         {"name": "n" * 100_000, "email": "z@example.com", "password": PASSWORD}, {}, {400}),
        ("sign-up, 100 kB email", "anon", signup,
         {"name": "n", "email": "z" * 100_000 + "@example.com", "password": PASSWORD}, {},
         {400}),
        ("sign-up confirm, 10 kB token", "anon",
         reverse("accounts:signup_confirm", args=["t" * 10_000]), {}, {}, {410}),
        ("workspace name, every control character", "alice", settings_url,
         {"name": control}, {}, {400}),
        ("workspace name, 1 MB", "alice", settings_url, {"name": "w" * 1_000_000}, {},
         {400, 413}),
        ("new workspace, control characters", "alice", reverse("workspaces:create"),
         {"name": "a\nb"}, {}, {400}),
        ("invite, header injection in the email", "alice", invite_url,
         {"email": "x@example.com\nBcc: all@example.com", "role": "editor", "days": 7}, {},
         {400}),
        ("invite, 100 kB email", "alice", invite_url,
         {"email": "x" * 100_000 + "@example.com", "role": "owner", "days": 7}, {}, {400}),
        ("invite, days out of range", "alice", invite_url,
         {"email": "", "role": "owner", "days": 10**30}, {}, {400}),
        ("accept, 10 kB token", "bob", reverse("workspaces:accept", args=["k" * 10_000]), {}, {},
         {410}),
        ("healthz, 10 kB token", "anon", "/healthz", None,
         {"HTTP_X_HEALTH_TOKEN": "h" * 10_000}, {503}),
    ]


def test_hostile_account_input_answers_within_2s_in_bounded_memory(cast, settings,
                                                                   failing_health):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.HEALTH_DETAILS_TOKEN = "monitoring-token"
    inv = ws_services.invitation_create(membership=cast.alice_m, role=Role.EDITOR)
    clients = {"anon": Client(), "alice": client_for(cast.alice), "bob": client_for(cast.bob)}
    before = (Workspace.objects.count(), Invitation.objects.count(), User.objects.count(),
              Membership.objects.count(), Workspace.objects.get(pk=cast.ws.pk).name)
    worst = (0.0, "")
    requests = _hostile_requests(cast, inv.token)
    for traced in (False, True):  # timed without tracemalloc (it slows Python), then measured
        if traced:
            tracemalloc.start()
        try:
            for label, who, url, data, headers, ok in requests:
                if traced:
                    tracemalloc.reset_peak()
                started = time.perf_counter()
                client = clients[who]
                response = (client.get(url, **headers) if data is None
                            else client.post(url, data, **headers))
                took = time.perf_counter() - started
                assert response.status_code in ok, (label, response.status_code)
                if traced:
                    peak = tracemalloc.get_traced_memory()[1]
                    assert peak < 64 * 2**20, (label, peak)  # a few copies of a 1 MB input
                else:
                    assert took < 2.0, (label, took)
                    worst = max(worst, (took, label))
        finally:
            tracemalloc.stop()
    after = (Workspace.objects.count(), Invitation.objects.count(), User.objects.count(),
             Membership.objects.count(), Workspace.objects.get(pk=cast.ws.pk).name)
    assert after == before  # every hostile request was refused whole
    report(f"accounts/members hostile input: {len(requests)} requests, "
           f"slowest {worst[0] * 1000:.0f} ms ({worst[1]}), none stored")
