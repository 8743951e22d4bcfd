"""Webhooks in backups: URL, events and active flag travel; the secret never does, so a restored
webhook sends nothing until an owner rotates its secret."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from copywriter.accounts.models import User
from copywriter.webhooks import services
from copywriter.webhooks.models import Event, Webhook
from copywriter.webhooks.tasks import deliver
from copywriter.workspaces.models import Workspace


def test_a_restored_webhook_has_no_secret_until_rotated(cast, loopback_allowed, receiver, tmp_path,
                                                       outbox):
    made, secret = services.webhook_create(membership=cast.alice_m, url=receiver.url,
                                           events=[Event.DOCUMENT_PUBLISHED, Event.BULK_RUN_DONE])
    services.webhook_create(membership=cast.alice_m, url="https://93.184.215.14/paused",
                            events=[Event.GENERATION_DONE], active=False)
    path = tmp_path / "backup.json"
    call_command("backup", str(path), stdout=StringIO())
    text = path.read_text()
    assert secret not in text and "whsec_" not in text
    rows = json.loads(text)["webhooks"]
    assert [(r["url"], r["events"], r["active"]) for r in rows] == [
        (receiver.url, ["document.published", "bulk_run.done"], True),
        ("https://93.184.215.14/paused", ["generation.done"], False)]

    Workspace.objects.all().delete()
    User.objects.all().delete()
    out = StringIO()
    call_command("restore", str(path), stdout=out)
    assert "webhooks: 2 added" in out.getvalue()
    restored = Webhook.objects.get(url=receiver.url)
    assert restored.secret == "" and restored.active
    assert restored.events == ["document.published", "bulk_run.done"]
    call_command("restore", str(path), stdout=StringIO())
    assert Webhook.objects.count() == 2  # a second restore adds nothing

    # Unusable: events skip it and the test button says what to do.
    assert services.emit(workspace_id=restored.workspace_id, event=Event.DOCUMENT_PUBLISHED,
                         data={}) == []
    owner = restored.workspace.memberships.get(role="owner")
    with pytest.raises(services.WebhookError, match="rotate its secret"):
        services.webhook_send_test(membership=owner, webhook_id=restored.pk)
    _, receiver.secret = services.webhook_rotate_secret(membership=owner, webhook_id=restored.pk)
    message = services.webhook_send_test(membership=owner, webhook_id=restored.pk)
    assert deliver(message.pk) == "delivered" and receiver.requests[0].verified


def test_a_backup_with_a_bad_webhook_row_is_refused_whole(cast, tmp_path):
    path = tmp_path / "backup.json"
    call_command("backup", str(path), stdout=StringIO())
    data = json.loads(path.read_text())
    ws = data["workspaces"][0]["key"]
    data["webhooks"] = [{"workspace": ws, "created_at": "2026-01-01T00:00:00+00:00",
                         "created_by": None, "url": "https://x.example/\nEvil: 1",
                         "events": ["document.deleted"], "active": "yes"}]
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError) as exc:
        call_command("restore", str(path), stdout=StringIO())
    message = str(exc.value)
    assert "webhooks[0].url: holds a line break" in message
    assert "webhooks[0].events: must list some of" in message
    assert "webhooks[0].active: must be true or false" in message
