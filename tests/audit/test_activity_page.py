"""The activity page and its CSV: owners only, this workspace only, filtered, safe to open in a
spreadsheet; and the retention that prunes old rows."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from copywriter.audit.models import AuditEvent
from copywriter.audit.services import record
from tests.support.cast import client_for
from tests.support.report import report


def _at(event: AuditEvent, when) -> None:
    AuditEvent.objects.filter(pk=event.pk).update(created_at=when)


@pytest.fixture
def trail(cast):
    """Events in Alice's workspace on three days, and one in Charlie's."""
    now = timezone.now()
    made = {}
    for key, actor, action, summary, days in [
            ("role", cast.alice, "member.role_changed", "changed bob's role", 10),
            ("token", cast.bob, "token.created", "made the API token 'CMS'", 5),
            ("export", cast.vera, "document.exported", "exported 'Spring launch' as md", 1),
            ("system", None, "document.trashed", "moved 'Old notes' to the trash", 0)]:
        record(workspace=cast.ws, actor=actor, action=action, summary=summary)
        made[key] = AuditEvent.objects.latest("pk")
        _at(made[key], now - timedelta(days=days))
    record(workspace=cast.other, actor=cast.charlie, action="token.created",
           summary="made the API token 'Charlie secret'")
    made["charlie"] = AuditEvent.objects.latest("pk")
    return made


def _rows(response) -> list[str]:
    return [e.summary for e in response.context["page"].object_list]


def test_owner_sees_the_workspaces_activity_newest_first(cast, trail, alice_client):
    r = alice_client.get(reverse("audit:activity", args=[cast.ws.pk]))
    assert r.status_code == 200
    summaries = [s for s in _rows(r) if s in {e.summary for e in trail.values()}]
    assert summaries == ["moved 'Old notes' to the trash", "exported 'Spring launch' as md",
                         "made the API token 'CMS'", "changed bob's role"]
    html = r.content.decode()
    assert "Charlie secret" not in html and "system" in html
    assert reverse("audit:export", args=[cast.ws.pk]) in html
    # The members page links to it for owners only.
    link = reverse("audit:activity", args=[cast.ws.pk])
    assert link in alice_client.get(reverse("workspaces:members", args=[cast.ws.pk])).content.decode()
    bob_page = client_for(cast.bob).get(reverse("workspaces:members", args=[cast.ws.pk]))
    assert link not in bob_page.content.decode()


def test_editors_and_viewers_are_refused_and_outsiders_get_404(cast, trail):
    for url in (reverse("audit:activity", args=[cast.ws.pk]),
                reverse("audit:export", args=[cast.ws.pk])):
        assert client_for(cast.bob).get(url).status_code == 403
        assert client_for(cast.vera).get(url).status_code == 403
        assert client_for(cast.charlie).get(url).status_code == 404
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_another_workspaces_events_never_show(cast, trail):
    charlie = client_for(cast.charlie)
    r = charlie.get(reverse("audit:activity", args=[cast.other.pk]), {"q": "token"})
    assert _rows(r) == ["made the API token 'Charlie secret'"]
    body = charlie.get(reverse("audit:export", args=[cast.other.pk])).content.decode("utf-8-sig")
    assert "Charlie secret" in body and "CMS" not in body and "bob@example.com" not in body


def test_filters_by_kind_member_dates_and_text(cast, trail, alice_client):
    url = reverse("audit:activity", args=[cast.ws.pk])
    ours = {e.summary for k, e in trail.items() if k != "charlie"}

    def get(**params):
        return [s for s in _rows(alice_client.get(url, params)) if s in ours]

    assert get(kind="token") == ["made the API token 'CMS'"]
    assert get(kind="document.exported") == ["exported 'Spring launch' as md"]
    assert get(kind="document") == ["moved 'Old notes' to the trash",
                                    "exported 'Spring launch' as md"]
    assert get(actor="BOB@example.com") == ["made the API token 'CMS'"]
    assert get(actor="system") == ["moved 'Old notes' to the trash"]
    today = timezone.localdate()
    assert get(**{"from": str(today - timedelta(days=6)), "to": str(today - timedelta(days=1))}) == [
        "exported 'Spring launch' as md", "made the API token 'CMS'"]
    assert get(q="spring") == ["exported 'Spring launch' as md"]
    # The target's name is searched too.
    record(workspace=cast.ws, actor=cast.alice, action="template.deleted", target="Autumn ad",
           summary="deleted a template")
    assert [s for s in _rows(alice_client.get(url, {"q": "autumn"}))] == ["deleted a template"]


def test_a_bad_filter_says_why_and_shows_nothing(cast, trail, alice_client):
    url = reverse("audit:activity", args=[cast.ws.pk])
    r = alice_client.get(url, {"from": "last tuesday"})
    assert r.status_code == 400 and "is not a date (YYYY-MM-DD)" in r.content.decode()
    assert _rows(r) == []
    r = alice_client.get(url, {"from": "2026-05-02", "to": "2026-05-01"})
    assert r.status_code == 400 and "after the" in r.content.decode()
    r = alice_client.get(reverse("audit:export", args=[cast.ws.pk]), {"to": "soon"})
    assert r.status_code == 400 and "is not a date" in r.content.decode()


def test_pages_of_fifty_keep_the_filters(cast, alice_client):
    for i in range(60):
        record(workspace=cast.ws, actor=cast.alice, action="document.exported", summary=f"n{i}")
    url = reverse("audit:activity", args=[cast.ws.pk])
    first = alice_client.get(url, {"kind": "document"})
    assert len(_rows(first)) == 50 and _rows(first)[0] == "n59"
    assert "kind=document&amp;page=2" in first.content.decode()
    second = alice_client.get(url, {"kind": "document", "page": 2})
    assert _rows(second) == [f"n{i}" for i in range(9, -1, -1)]


def test_csv_export_is_filtered_formula_safe_and_recorded(cast, trail, alice_client):
    record(workspace=cast.ws, actor=cast.bob, action="document.exported",
           target='=HYPERLINK("http://evil")', summary="=cmd|' /C calc'!A0",
           details={"note": "+1"})
    r = alice_client.get(reverse("audit:export", args=[cast.ws.pk]), {"kind": "document"},
                         REMOTE_ADDR="198.51.100.9")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"]
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["time (UTC)", "actor", "action"]
    hostile = next(row for row in table if "calc" in row[6])
    assert hostile[6] == "'=cmd|' /C calc'!A0" and hostile[5] == "'=HYPERLINK(\"http://evil\")"
    assert hostile[1] == "bob@example.com" and hostile[7] == '{"note": "+1"}'
    # Only the filtered kind; the other kinds and the other workspace stay out.
    assert {row[2] for row in table[1:]} == {"document.exported", "document.trashed"}
    assert not any(row[1] == "system" and row[2] != "document.trashed" for row in table[1:])
    e = AuditEvent.objects.get(action="audit.exported")
    assert (e.actor_label, e.ip, e.workspace_id) == ("alice@example.com", "198.51.100.9", cast.ws.pk)
    assert e.details == {"filters": {"kind": "document"}, "rows": 3}
    report(f"audit CSV: {len(table) - 1} rows, formula cells prefixed, the export itself recorded")


def test_retention_prunes_old_rows_and_keeps_new_ones(cast, trail, settings):
    settings.AUDIT_RETENTION_DAYS = 7
    from copywriter.audit.tasks import prune

    assert prune() == 1  # the role change, ten days old
    assert not AuditEvent.objects.filter(pk=trail["role"].pk).exists()
    assert AuditEvent.objects.filter(pk__in=[trail["token"].pk, trail["export"].pk,
                                             trail["system"].pk, trail["charlie"].pk]).count() == 4
    assert prune() == 0  # idempotent


def test_prune_command_and_zero_keeps_everything(cast, trail, settings):
    settings.AUDIT_RETENTION_DAYS = 0
    out = StringIO()
    call_command("prune_audit", stdout=out)
    assert "nothing pruned" in out.getvalue()
    assert AuditEvent.objects.filter(pk=trail["role"].pk).exists()
    out = StringIO()
    call_command("prune_audit", "--days", "3", stdout=out)
    assert "Pruned 2 activity events older than 3 days" in out.getvalue()
    assert set(AuditEvent.objects.filter(pk__in=[e.pk for e in trail.values()])
               .values_list("action", flat=True)) == {"document.exported", "document.trashed",
                                                       "token.created"}


def test_the_beat_schedule_runs_the_prune_task():
    from django.conf import settings

    from copywriter.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["audit-prune"]
    assert entry["task"] == "audit.prune" and entry["schedule"] <= 24 * 3600
    app.loader.import_default_modules()
    assert "audit.prune" in app.tasks


def test_the_api_lists_the_activity_for_owner_tokens_only(cast, trail):
    from django.test import Client

    from copywriter.api.services import token_create

    owner = token_create(membership=cast.alice_m, name="audit", role="owner").secret
    editor = token_create(membership=cast.alice_m, name="capped", role="editor").secret
    client = Client()
    r = client.get("/api/v1/audit", {"kind": "token", "actor": "bob@example.com"},
                   HTTP_AUTHORIZATION=f"Bearer {owner}")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 1 and body["items"][0]["summary"] == "made the API token 'CMS'"
    assert body["items"][0]["actor"] == "bob@example.com"
    r = client.get("/api/v1/audit", {"kind": "document"}, HTTP_AUTHORIZATION=f"Bearer {owner}")
    assert [i["actor"] for i in r.json()["items"]] == [None, "vera@example.com"]
    r = client.get("/api/v1/audit", {"date_from": "someday"}, HTTP_AUTHORIZATION=f"Bearer {owner}")
    assert r.status_code == 400 and "is not a date" in r.json()["detail"]
    r = client.get("/api/v1/audit", HTTP_AUTHORIZATION=f"Bearer {editor}")
    assert r.status_code == 403 and "owners" in r.json()["detail"]
    outsider = token_create(membership=cast.charlie_m, name="c", role="owner").secret
    items = client.get("/api/v1/audit", HTTP_AUTHORIZATION=f"Bearer {outsider}").json()["items"]
    assert items and all("CMS" not in i["summary"] for i in items)
    assert any("Charlie secret" in i["summary"] for i in items)
