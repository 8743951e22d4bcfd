"""Backups carry the activity trail: restored with its original times and labels, once."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from copywriter.accounts.models import User
from copywriter.audit.models import AuditEvent
from copywriter.audit.services import record
from copywriter.workspaces.models import Workspace
from copywriter.workspaces.services import member_set_role


def _trail() -> list[tuple]:
    return sorted((e.workspace.name, e.created_at.isoformat(), e.actor_label, e.action,
                   e.target_type, e.target_label, e.summary, e.details, e.ip, e.user_agent)
                  for e in AuditEvent.objects.select_related("workspace"))


@pytest.fixture
def events(cast):
    member_set_role(membership=cast.alice_m, member_id=cast.bob_m.pk, role="viewer")
    record(workspace=cast.ws, actor=cast.vera, action="document.exported", target="Spring launch",
           summary="exported 'Spring launch' as md", details={"format": "md", "nested": {"a": [1]}})
    # From a request, a year ago, by someone who has left since.
    old = AuditEvent.objects.create(workspace=cast.ws, actor=None, actor_label="gone@example.com",
                                    action="token.revoked", target_type="api.apitoken",
                                    target_id="7", target_label="CMS (cw_abc…)",
                                    summary="revoked the API token 'CMS'", ip="2001:db8::1",
                                    user_agent="Mozilla/5.0 — 日本",
                                    created_at=timezone.now() - timedelta(days=300))
    return old


def test_round_trip_keeps_times_and_labels_and_twice_adds_nothing(cast, events, tmp_path):
    before = _trail()
    assert len([t for t in before if t[0] == "Acme marketing"]) >= 3
    path = tmp_path / "backup.json.gz"
    call_command("backup", str(path), stdout=StringIO())
    Workspace.objects.all().delete()
    User.objects.all().delete()
    assert not AuditEvent.objects.exists()
    out = StringIO()
    call_command("restore", str(path), stdout=out)
    assert "audit_events: " in out.getvalue()
    assert _trail() == before
    # The actor is linked where the email is one of the backup's users, never made up.
    restored = AuditEvent.objects.get(action="member.role_changed")
    assert restored.actor is not None and restored.actor.email == "alice@example.com"
    assert AuditEvent.objects.get(action="token.revoked").actor is None
    assert not User.objects.filter(email="gone@example.com").exists()
    count = AuditEvent.objects.count()
    call_command("restore", str(path), stdout=StringIO())
    assert AuditEvent.objects.count() == count and _trail() == before


def test_a_scoped_backup_holds_only_that_workspaces_events(cast, events, tmp_path):
    record(workspace=cast.other, actor=cast.charlie, action="token.created", summary="charlie's")
    path = tmp_path / "b.json"
    call_command("backup", str(path), "--workspace", str(cast.ws.pk), stdout=StringIO())
    data = json.loads(path.read_text())
    assert data["audit_events"] and all(e["summary"] != "charlie's" for e in data["audit_events"])


@pytest.mark.parametrize("field, value, expect", [
    ("action", "", r"audit_events\[\d+\]\.action: is empty"),
    ("action", "x" * 65, r"audit_events\[\d+\]\.action: 65 characters"),
    ("actor", "a\nb@example.com", r"audit_events\[\d+\]\.actor: holds a line break"),
    ("summary", "a\x00b", r"audit_events\[\d+\]\.summary: holds a NUL"),
    ("created_at", "yesterday", r"audit_events\[\d+\]\.created_at: 'yesterday' is not a date"),
    ("ip", "999.1.1.1", r"audit_events\[\d+\]\.ip: '999.1.1.1' is not an IP address"),
    ("details", ["not", "an object"], r"audit_events\[\d+\]\.details: not a JSON object"),
    ("details", {"k": "v\x00"}, r"audit_events\[\d+\]\.details: not a JSON object"),
    ("workspace", "nowhere", r"audit_events\[\d+\]\.workspace: not one of the backup's"),
])
def test_a_damaged_event_refuses_the_whole_file(cast, events, tmp_path, field, value, expect):
    path = tmp_path / "b.json"
    call_command("backup", str(path), stdout=StringIO())
    data = json.loads(path.read_text())
    data["audit_events"][0][field] = value
    path.write_text(json.dumps(data))
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError, match=expect) as info:
        call_command("restore", str(path), stdout=StringIO())
    assert "nothing was written" in str(info.value)
    assert AuditEvent.objects.count() == before
