from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from copywriter.accounts.services import user_create
from copywriter.workspaces.decorators import require_writer
from copywriter.workspaces.models import Invitation, Membership, Role
from tests.support.cast import PASSWORD, client_for


def test_email_invitation_round_trip(alice_client, cast):
    alice_client.post(reverse("workspaces:invite", args=[cast.ws.pk]),
                      {"email": "Erin@example.com", "role": "viewer", "days": 3})
    inv = Invitation.objects.get(email="erin@example.com")
    assert inv.token in mail.outbox[0].body
    erin = user_create(email="erin@example.com", password=PASSWORD)
    client = client_for(erin)
    assert "Join Acme marketing" in client.get(reverse("workspaces:accept", args=[inv.token])).content.decode()
    client.post(reverse("workspaces:accept", args=[inv.token]))
    assert Membership.objects.get(workspace=cast.ws, user=erin).role == Role.VIEWER
    # Used up: an email invitation works once.
    assert client.post(reverse("workspaces:accept", args=[inv.token])).status_code == 410


def test_email_invitation_is_only_for_its_address(alice_client, cast):
    alice_client.post(reverse("workspaces:invite", args=[cast.ws.pk]),
                      {"email": "erin@example.com", "role": "editor", "days": 3})
    inv = Invitation.objects.get(email="erin@example.com")
    response = client_for(cast.charlie).post(reverse("workspaces:accept", args=[inv.token]))
    assert response.status_code == 410
    assert "was sent to erin@example.com" in response.content.decode()
    assert not Membership.objects.filter(workspace=cast.ws, user=cast.charlie).exists()


def test_shareable_link_many_uses_until_expiry(alice_client, cast):
    alice_client.post(reverse("workspaces:invite", args=[cast.ws.pk]), {"email": "", "role": "editor", "days": 1})
    inv = Invitation.objects.get(workspace=cast.ws, email="")
    page = alice_client.get(reverse("workspaces:members", args=[cast.ws.pk])).content.decode()
    assert inv.token in page
    u1 = user_create(email="u1@example.com", password=PASSWORD)
    u2 = user_create(email="u2@example.com", password=PASSWORD)
    client_for(u1).post(reverse("workspaces:accept", args=[inv.token]))
    client_for(u2).post(reverse("workspaces:accept", args=[inv.token]))
    assert Membership.objects.filter(workspace=cast.ws, user__in=[u1, u2], role=Role.EDITOR).count() == 2
    Invitation.objects.filter(pk=inv.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    u3 = user_create(email="u3@example.com", password=PASSWORD)
    assert client_for(u3).post(reverse("workspaces:accept", args=[inv.token])).status_code == 410


def test_anonymous_sees_invitation_and_is_offered_signup(alice_client, cast):
    alice_client.post(reverse("workspaces:invite", args=[cast.ws.pk]), {"email": "", "role": "editor", "days": 1})
    inv = Invitation.objects.get(workspace=cast.ws)
    html = Client().get(reverse("workspaces:accept", args=[inv.token])).content.decode()
    assert "Create an account" in html and f"next=/invite/{inv.token}/" in html


def test_revoked_invitation_is_refused(alice_client, cast):
    alice_client.post(reverse("workspaces:invite", args=[cast.ws.pk]), {"email": "", "role": "editor", "days": 1})
    inv = Invitation.objects.get(workspace=cast.ws)
    alice_client.post(reverse("workspaces:revoke", args=[cast.ws.pk, inv.pk]))
    assert client_for(cast.charlie).post(reverse("workspaces:accept", args=[inv.token])).status_code == 410


def test_owner_changes_roles_and_removes_members(alice_client, cast):
    alice_client.post(reverse("workspaces:set_role", args=[cast.ws.pk, cast.bob_m.pk]), {"role": "viewer"})
    cast.bob_m.refresh_from_db()
    assert cast.bob_m.role == Role.VIEWER
    alice_client.post(reverse("workspaces:remove", args=[cast.ws.pk, cast.bob_m.pk]))
    assert not Membership.objects.filter(pk=cast.bob_m.pk).exists()


def test_last_owner_cannot_leave_or_be_demoted(alice_client, cast):
    response = alice_client.post(reverse("workspaces:leave", args=[cast.ws.pk]), follow=True)
    assert "You are the last owner" in response.content.decode()
    alice_client.post(reverse("workspaces:set_role", args=[cast.ws.pk, cast.alice_m.pk]), {"role": "editor"})
    cast.alice_m.refresh_from_db()
    assert cast.alice_m.role == Role.OWNER


def test_member_can_leave(bob_client, cast):
    bob_client.post(reverse("workspaces:leave", args=[cast.ws.pk]))
    assert not Membership.objects.filter(workspace=cast.ws, user=cast.bob).exists()
    assert bob_client.get(reverse("documents:list", args=[cast.ws.pk])).status_code == 404


def test_user_with_several_workspaces_switches(alice_client, cast):
    alice_client.post(reverse("workspaces:create"), {"name": "Side project"})
    side = Membership.objects.get(user=cast.alice, workspace__name="Side project").workspace
    page = alice_client.get(reverse("documents:list", args=[side.pk])).content.decode()
    assert "Acme marketing" in page and "Side project" in page  # switcher lists both
    # home goes to the last workspace used
    assert alice_client.get(reverse("workspaces:home"))["Location"].startswith(f"/w/{side.pk}/")
    alice_client.get(reverse("documents:list", args=[cast.ws.pk]))
    assert alice_client.get(reverse("workspaces:home"))["Location"].startswith(f"/w/{cast.ws.pk}/")


def test_editor_cannot_invite(bob_client, cast):
    response = bob_client.post(reverse("workspaces:invite", args=[cast.ws.pk]),
                               {"email": "x@example.com", "role": "owner", "days": 1})
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_require_writer_refuses_viewers_with_the_callers_error(cast):
    refusal = ValueError("Viewers cannot do that.")
    with pytest.raises(ValueError) as raised:
        require_writer(cast.vera_m, refusal)
    assert raised.value is refusal
    with pytest.raises(PermissionDenied):
        require_writer(cast.vera_m)
    for writer in (cast.alice_m, cast.bob_m):  # owner and editor pass
        require_writer(writer, refusal)
