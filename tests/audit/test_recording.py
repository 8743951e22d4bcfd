"""What gets recorded: one row per change, with who, from where and what it was done to; nothing
for a change that was rolled back."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from copywriter.audit.models import AuditEvent
from copywriter.audit.services import record
from copywriter.workspaces import services as ws_services
from copywriter.workspaces.models import Membership
from tests.support.cast import client_for
from tests.support.report import report

BROWSER = {"REMOTE_ADDR": "198.51.100.7", "HTTP_USER_AGENT": "Mozilla/5.0 (audit test)"}


def only(action: str, workspace) -> AuditEvent:
    rows = list(AuditEvent.objects.filter(workspace=workspace, action=action))
    assert len(rows) == 1, (action, rows)
    return rows[0]


def test_a_role_change_is_one_row_with_actor_address_agent_and_target(cast, alice_client):
    response = alice_client.post(reverse("workspaces:set_role", args=[cast.ws.pk, cast.bob_m.pk]),
                                 {"role": "viewer"}, **BROWSER)
    assert response.status_code == 302
    e = only("member.role_changed", cast.ws)
    assert (e.actor_id, e.actor_label) == (cast.alice.pk, "alice@example.com")
    assert (e.ip, e.user_agent) == ("198.51.100.7", "Mozilla/5.0 (audit test)")
    assert (e.target_type, e.target_id) == ("workspaces.membership", str(cast.bob_m.pk))
    assert e.target_label.startswith("Bob in Acme marketing") and "bob@example.com" in e.summary
    assert e.details["old"] == "editor" and e.details["new"] == "viewer"
    # Setting the same role again changes nothing, so it records nothing.
    alice_client.post(reverse("workspaces:set_role", args=[cast.ws.pk, cast.bob_m.pk]),
                      {"role": "viewer"}, **BROWSER)
    assert AuditEvent.objects.filter(action="member.role_changed").count() == 1


def test_the_address_behind_a_trusted_proxy_is_the_clients_and_a_forged_one_is_not(
        cast, alice_client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    url = reverse("workspaces:set_role", args=[cast.ws.pk, cast.bob_m.pk])
    alice_client.post(url, {"role": "viewer"}, REMOTE_ADDR="10.0.0.2",
                      HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    # Straight from the internet, the header is the client's own claim: not believed.
    alice_client.post(url, {"role": "editor"}, REMOTE_ADDR="198.51.100.4",
                      HTTP_X_FORWARDED_FOR="203.0.113.9")
    ips = list(AuditEvent.objects.filter(action="member.role_changed").order_by("pk")
               .values_list("ip", flat=True))
    assert ips == ["203.0.113.9", "198.51.100.4"]


def test_members_joining_leaving_removed_and_invitations_are_recorded(cast, alice_client):
    inv = ws_services.invitation_create(membership=cast.alice_m, role="viewer")
    assert only("invitation.created", cast.ws).target_id == str(inv.pk)
    joined = ws_services.invitation_accept(token=inv.token, user=cast.charlie)
    e = only("member.added", cast.ws)
    assert e.actor_id == cast.charlie.pk and e.details["invited_by"] == "alice@example.com"
    alice_client.post(reverse("workspaces:revoke", args=[cast.ws.pk, inv.pk]))
    alice_client.post(reverse("workspaces:revoke", args=[cast.ws.pk, inv.pk]))  # twice: one row
    assert only("invitation.revoked", cast.ws).actor_id == cast.alice.pk
    alice_client.post(reverse("workspaces:remove", args=[cast.ws.pk, cast.vera_m.pk]))
    e = only("member.removed", cast.ws)
    assert e.target_id == str(cast.vera_m.pk) and "vera@example.com" in e.summary
    ws_services.workspace_leave(membership=joined)
    e = only("member.left", cast.ws)
    assert e.actor_label == "charlie@example.com" and e.ip is None  # no request: no address


def test_ownership_transfer_is_a_role_change(cast):
    ws_services.member_set_role(membership=cast.alice_m, member_id=cast.bob_m.pk, role="owner")
    cast.bob_m.refresh_from_db()
    ws_services.member_set_role(membership=cast.bob_m, member_id=cast.alice_m.pk, role="editor")
    rows = AuditEvent.objects.filter(action="member.role_changed").order_by("pk")
    assert [(e.actor_label, e.details["new"]) for e in rows] == [
        ("alice@example.com", "owner"), ("bob@example.com", "editor")]


def test_api_tokens_made_and_revoked_through_the_web(cast, bob_client):
    response = bob_client.post(reverse("api:tokens", args=[cast.ws.pk]),
                               {"name": "=CMS sync", "role": "editor"}, **BROWSER)
    assert response.status_code == 200
    e = only("token.created", cast.ws)
    assert e.actor_label == "bob@example.com" and e.ip == "198.51.100.7"
    assert e.target_label.startswith("=CMS sync (cw_") and e.details["role"] == "editor"
    bob_client.post(reverse("api:revoke", args=[cast.ws.pk, int(e.target_id)]), **BROWSER)
    assert only("token.revoked", cast.ws).target_id == e.target_id


def test_every_export_door_is_recorded(cast, objects, alice_client, bob_client, vera_client):
    ws = cast.ws.pk
    r = vera_client.get(reverse("documents:export", args=[ws, objects["doc"].pk, "md"]), **BROWSER)
    assert r.status_code == 200
    e = only("document.exported", cast.ws)
    assert (e.actor_label, e.target_label, e.details["format"]) == (
        "vera@example.com", "Secret plan", "md")
    r = bob_client.get(reverse("generation:export_search_ads", args=[ws, objects["gen"].pk]))
    assert r.status_code == 200
    assert only("generation.exported", cast.ws).target_id == str(objects["gen"].pk)
    for fmt in ("csv", "xlsx"):
        assert alice_client.get(reverse("bulk:download",
                                        args=[ws, objects["bulk"].pk, fmt])).status_code == 200
    assert sorted(AuditEvent.objects.filter(action="bulk.exported")
                  .values_list("details__format", flat=True)) == ["csv", "xlsx"]


def test_deletions_are_recorded_with_the_name_they_had(cast, objects, bob_client):
    from copywriter.catalog.services import template_delete
    from copywriter.facts.services import fact_sheet_archive
    from copywriter.originality.services import reference_delete
    from copywriter.seo.services import keyword_list_delete
    from copywriter.voices.services import voice_delete

    ws = cast.ws.pk
    bob_client.post(reverse("documents:trash_doc", args=[ws, objects["doc"].pk]))
    bob_client.post(reverse("documents:untrash", args=[ws, objects["doc"].pk]))
    template_delete(membership=cast.bob_m, template=objects["own_template"])
    voice_delete(membership=cast.bob_m, voice=objects["voice"])
    keyword_list_delete(membership=cast.bob_m, keyword_list=objects["keyword_list"])
    reference_delete(membership=cast.bob_m, item=objects["ref"])
    fact_sheet_archive(membership=cast.bob_m, sheet_id=objects["sheet"].pk)
    labels = dict(AuditEvent.objects.filter(workspace=cast.ws, actor=cast.bob)
                  .values_list("action", "target_label"))
    assert labels == {"document.trashed": "Secret plan", "document.restored": "Secret plan",
                      "template.deleted": "Own ad", "voice.deleted": "House",
                      "keyword_list.deleted": "Boots", "reference.deleted": "Competitor page",
                      "fact_sheet.archived": "Fernway secret boots"}
    report(f"audit: {len(labels)} deletion/restore kinds recorded with their targets' names")


def test_workspace_settings_changes_are_recorded(cast, alice_client):
    from copywriter.originality.services import settings_get, settings_update

    r = alice_client.post(reverse("workspaces:settings", args=[cast.ws.pk]),
                          {"name": "Acme brand team", "claims_policy": "hide"})
    assert r.status_code == 302
    assert only("workspace.renamed", cast.ws).details == {"old": "Acme marketing",
                                                          "new": "Acme brand team"}
    assert only("workspace.settings_changed", cast.ws).details["new"] == "hide"
    current = settings_get(workspace_id=cast.ws.pk)
    settings_update(membership=cast.alice_m, paraphrase_threshold=current.paraphrase_threshold,
                    copy_threshold=current.copy_threshold, check_generations=False,
                    regenerate=current.regenerate, max_regenerations=current.max_regenerations)
    e = AuditEvent.objects.filter(action="workspace.settings_changed").order_by("-pk").first()
    assert e.details == {"setting": "originality", "changed": {"check_generations": [True, False]}}


def test_a_rolled_back_change_leaves_no_event(cast):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        ws_services.member_set_role(membership=cast.alice_m, member_id=cast.bob_m.pk, role="owner")
        raise RuntimeError("the request failed after the change")
    assert Membership.objects.get(pk=cast.bob_m.pk).role == "editor"
    # A refused change is no change either.
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        ws_services.member_remove(membership=cast.alice_m, member_id=cast.alice_m.pk)
    assert AuditEvent.objects.count() == before


def test_record_keeps_bad_details_as_text_and_never_stores_a_nul(cast):
    record(workspace=cast.ws, actor=cast.alice, action="test.odd", target="a\x00b",
           summary="line one\nline\x00 two", details={"when": object(), "x": 1})
    record(workspace=cast.ws.pk, actor=None, action="test.nul", details={"k\x00": ["v\x00"]})
    odd = only("test.odd", cast.ws)
    assert odd.summary == "line one line two" and odd.target_label == "ab"
    assert set(odd.details) == {"repr"} and "object object" in odd.details["repr"]
    nul = only("test.nul", cast.ws)
    assert nul.details == {"k": ["v"]} and nul.actor_label == "" and nul.actor is None
    with pytest.raises(ValueError):
        record(workspace=None, actor=None, action="test.none")


def test_a_deleted_actor_leaves_the_label(cast):
    from copywriter.accounts.services import user_create
    from tests.support.cast import PASSWORD

    dan = user_create(email="dan@example.com", password=PASSWORD, name="Dan")
    record(workspace=cast.ws, actor=dan, action="test.done", summary="did it")
    dan.delete()
    e = only("test.done", cast.ws)
    assert e.actor is None and e.actor_label == "dan@example.com"


@pytest.fixture
def vera_client(cast):
    return client_for(cast.vera)
