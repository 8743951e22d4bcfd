"""Issue 18, items 6 and 20: `manage.py restore` treats its file as hostile input (the web's
limits, no memberships handed out, a cap on what it inflates, messages instead of tracebacks),
and the users it creates can set a password through "Forgot password"."""

from __future__ import annotations

import copy
import gzip
import json
import re
import tracemalloc
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from copywriter.accounts.models import User
from copywriter.backup import services as backup
from copywriter.documents.models import Document, DocumentVersion
from copywriter.documents.services import document_create
from copywriter.workspaces.models import Membership, Workspace

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-passphrase-41"


def _new_workspace_backup(cast, *, members: list[tuple[str, str]]) -> dict:
    """A backup of one workspace that does not exist here, with ``members`` (email, role)."""
    data = backup.dump(workspace_ids=[cast.ws.pk])
    data = copy.deepcopy(data)
    ws = data["workspaces"][0]
    ws["key"] = "2020-01-01T00:00:00+00:00|"  # what workspace_key() makes of it
    ws["created_at"], ws["created_by"], ws["name"] = "2020-01-01T00:00:00+00:00", None, "Imported"
    known = {u["email"] for u in data["users"]}
    for email, _ in members:
        if email not in known:
            data["users"].append({"email": email, "first_name": "", "last_name": ""})
    ws["members"] = [{"user": e, "role": r, "created_at": "2020-01-01T00:00:00+00:00"}
                     for e, r in members]
    for section in ("documents", "keyword_lists", "templates", "voices", "references",
                    "webhooks", "audit_events", "style_rules", "workflow_settings",
                    "workflow_documents"):
        for row in data[section]:
            row["workspace"] = ws["key"]
    return data


def _restore(tmp_path, data, *args: str, name: str = "b.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    out = StringIO()
    call_command("restore", str(path), *args, stdout=out)
    return out.getvalue()


def _counts() -> tuple[int, ...]:
    return (User.objects.count(), Workspace.objects.count(), Membership.objects.count(),
            Document.objects.count(), DocumentVersion.objects.count())


# --- item 6: restored users reach their account through "Forgot password" --------------------

def _reset_link(client: Client, email: str) -> str | None:
    mail.outbox.clear()
    response = client.post(reverse("accounts:password_reset"), {"email": email})
    assert response.status_code == 302
    if not mail.outbox:
        return None
    match = re.search(r"https?://[^/\s]+(/\S+/password/reset/\S+/)", mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return match.group(1)


def test_a_restored_user_sets_a_password_with_forgot_password_and_logs_in(cast, tmp_path):
    data = _new_workspace_backup(cast, members=[("restored@example.org", "owner")])
    _restore(tmp_path, data)
    user = User.objects.get(email="restored@example.org")
    assert not user.has_usable_password()
    client = Client()
    link = _reset_link(client, "Restored@example.org")
    assert link is not None, "no reset email for a restored user"
    form = client.get(link, follow=True)
    assert form.status_code == 200
    done = client.post(form.redirect_chain[-1][0] if form.redirect_chain else link,
                       {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert Client().login(email="restored@example.org", password=NEW_PASSWORD)
    # the link worked once: the mark is gone with the password it set
    user.refresh_from_db()
    assert user.has_usable_password()


def test_an_account_locked_by_an_administrator_still_gets_no_reset_email(cast):
    """Only restored users are served: other unusable passwords (an administrator's lock) are
    skipped, as Django does, and the page answers the same either way."""
    cast.bob.set_unusable_password()
    cast.bob.save()
    assert _reset_link(Client(), "bob@example.com") is None
    assert _reset_link(Client(), "alice@example.com") is not None  # the control


# --- item 20: the file hands out no memberships ------------------------------------------------

def test_a_backup_cannot_make_an_existing_account_a_member_without_the_operator(cast, tmp_path):
    data = _new_workspace_backup(cast, members=[("charlie@example.com", "owner"),
                                                ("newcomer@example.org", "editor")])
    out = _restore(tmp_path, data)
    imported = Workspace.objects.get(name="Imported")
    members = set(Membership.objects.filter(workspace=imported)
                  .values_list("user__email", flat=True))
    assert members == {"newcomer@example.org"}
    assert "charlie@example.com as owner of 'Imported'" in out
    assert "--add-existing-member" in out
    # the operator vouches for charlie: restoring again adds that membership only
    _restore(tmp_path, data, "--add-existing-member", "Charlie@example.com")
    assert Membership.objects.filter(workspace=imported, user=cast.charlie, role="owner").exists()


def test_a_backup_cannot_add_anyone_to_a_live_workspace(cast, tmp_path):
    data = backup.dump(workspace_ids=[cast.ws.pk])
    data["users"] += [{"email": "mallory@example.net", "first_name": "", "last_name": ""},
                      {"email": "charlie@example.com", "first_name": "", "last_name": ""}]
    data["workspaces"][0]["members"] += [
        {"user": "mallory@example.net", "role": "owner", "created_at": "2020-01-01T00:00:00Z"},
        {"user": "charlie@example.com", "role": "owner", "created_at": "2020-01-01T00:00:00Z"}]
    before = set(Membership.objects.filter(workspace=cast.ws).values_list("user__email", "role"))
    out = _restore(tmp_path, data)
    after = set(Membership.objects.filter(workspace=cast.ws).values_list("user__email", "role"))
    assert after == before
    assert "mallory@example.net as owner of 'Acme marketing'" in out
    assert "charlie@example.com as owner of 'Acme marketing'" in out


# --- item 20: the web's limits, a message for each problem, nothing half-stored ----------------

def _hostile_variants(cast) -> list[tuple[str, dict, str]]:
    from django.conf import settings

    base = _new_workspace_backup(cast, members=[("newcomer@example.org", "owner")])
    cases = []

    def case(name: str, change, expect: str) -> None:
        data = copy.deepcopy(base)
        change(data)
        cases.append((name, data, expect))

    def set_doc(key, value):
        return lambda d: d["documents"][0].__setitem__(key, value)

    case("over-long title", set_doc("title", "T" * 5000), r"documents\[0\]\.title: 5,000 characters")
    case("body over DOCUMENT_MAX_CHARS", set_doc("body", "b" * (settings.DOCUMENT_MAX_CHARS + 1)),
         r"documents\[0\]\.body: .* the limit is")
    case("NUL in a body", set_doc("body", "a\x00b"), r"documents\[0\]\.body: holds a NUL")
    case("title not a string", set_doc("title", {"$gt": ""}), r"documents\[0\]\.title: missing or not a string")
    case("head number not a number", set_doc("head_number", "1; DROP TABLE"), r"head_number")
    case("huge head number", set_doc("head_number", 10**30), r"head_number")
    case("version kind", lambda d: d["documents"][0]["versions"][0].__setitem__("kind", "x" * 50),
         r"versions\[0\]\.kind")
    case("bad role", lambda d: d["workspaces"][0]["members"][0].__setitem__("role", "superuser"),
         r"members\[0\]\.role")
    case("bad email", lambda d: d["users"].append({"email": "not an email\nBcc: x@y"}), r"email")
    case("unknown workspace", set_doc("workspace", "elsewhere"), r"documents\[0\]\.workspace")
    case("unknown author", set_doc("created_by", "ghost@example.org"), r"created_by")
    case("bad date", set_doc("created_at", "yesterday"), r"created_at")
    case("deep template data", lambda d: d["templates"][0]["versions"][0].__setitem__(
        "data", json.loads("[" * 200 + "]" * 200)), r"templates\[0\]\.versions\[0\]\.data")
    case("invalid template", lambda d: d["templates"][0]["versions"][0]["data"].__setitem__(
        "prompt", "{{ ''.__class__.__mro__ }}"), r"templates\[0\]\.versions\[0\]\.data")
    case("too many voice samples", lambda d: d["voices"][0].__setitem__(
        "samples", [f"sample {i}" for i in range(5000)]), r"voices\[0\]\.samples: 5000 samples")
    case("over-long reference", lambda d: d["references"][0].__setitem__("text", "r" * 300_000),
         r"references\[0\]\.text")
    case("bad keywords", lambda d: d["keyword_lists"][0].__setitem__("keywords", ["k" * 500]),
         r"keyword_lists\[0\]\.keywords")
    case("rows not objects", lambda d: d.__setitem__("documents", [1, "x", None]),
         r"documents\[0\]: not an object")
    case("section not a list", lambda d: d.__setitem__("users", {"a": 1}), r"users: missing")
    return cases


def test_hostile_backups_are_refused_whole_with_a_message_naming_the_problem(cast, content,
                                                                            tmp_path):
    before = _counts()
    cases = _hostile_variants(cast)
    for name, data, expect in cases:
        with pytest.raises(CommandError) as info:
            _restore(tmp_path, data)
        assert re.search(expect, str(info.value)), (name, str(info.value))
        assert "nothing was written" in str(info.value), name
        assert _counts() == before, name
    # the control: the same backup without the change restores
    good = _new_workspace_backup(cast, members=[("newcomer@example.org", "owner")])
    assert "documents: " in _restore(tmp_path, good)
    assert _counts() != before


def test_deeply_nested_json_is_a_message_not_a_traceback(db, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(CommandError, match="nested too deeply"):
        call_command("restore", str(path))


def test_a_gzip_bomb_is_refused_after_reading_at_most_the_cap(db, tmp_path, settings):
    settings.RESTORE_MAX_BYTES = 2_000_000
    path = tmp_path / "bomb.json.gz"
    with gzip.open(path, "wb") as fh:  # 200 MB of spaces in a ~200 KB file
        chunk = b" " * 1_000_000
        for _ in range(200):
            fh.write(chunk)
    assert path.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(CommandError, match="RESTORE_MAX_BYTES"):
            call_command("restore", str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * settings.RESTORE_MAX_BYTES, f"peak {peak:,} bytes"


@pytest.fixture
def content(cast, ad_template):
    """One of each section, so every section's checks run."""
    from copywriter.catalog.services import workspace_template_save
    from copywriter.originality.models import ReferenceItem
    from copywriter.seo.models import KeywordList
    from copywriter.voices.models import BrandVoice

    workspace_template_save(membership=cast.alice_m,
                            data={**ad_template.current.data, "id": "spring-ad",
                                  "title": "Spring ad"})
    document_create(membership=cast.alice_m, title="Plan", body="Boots for spring.")
    BrandVoice.objects.create(workspace=cast.ws, name="House", samples=["one", "two"],
                              created_by=cast.alice)
    ReferenceItem.objects.create(workspace=cast.ws, title="Ref", text="Reference text.",
                                 created_by=cast.alice)
    KeywordList.objects.create(workspace=cast.ws, name="Boots", keywords=["boots"])
