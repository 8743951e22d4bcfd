from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from copywriter.accounts.models import User
from copywriter.workspaces.models import Invitation, Membership, Role, Workspace


def workspace_create(*, owner: User, name: str) -> Workspace:
    name = name.strip()[:100] or "Workspace"
    with transaction.atomic():
        ws = Workspace.objects.create(name=name, created_by=owner)
        Membership.objects.create(workspace=ws, user=owner, role=Role.OWNER)
    return ws


def workspace_rename(*, membership: Membership, name: str) -> Workspace:
    if not membership.is_owner:
        raise PermissionDenied("Only owners can rename a workspace.")
    ws = membership.workspace
    ws.name = name.strip()[:100] or ws.name
    ws.save(update_fields=["name"])
    return ws


def invitation_create(*, membership: Membership, email: str = "", role: str = Role.EDITOR,
                      ttl_days: int | None = None) -> Invitation:
    if not membership.is_owner:
        raise PermissionDenied("Only owners can invite people.")
    if role not in Role.values:
        raise ValidationError("Unknown role.")
    ttl = ttl_days if ttl_days is not None else settings.INVITATION_TTL_DAYS
    if not 1 <= ttl <= 90:
        raise ValidationError("An invitation lasts between 1 and 90 days.")
    email = email.strip().lower()
    if email and Membership.objects.filter(workspace=membership.workspace,
                                           user__email__iexact=email).exists():
        raise ValidationError(f"{email} is already a member of this workspace.")
    inv = Invitation.objects.create(workspace=membership.workspace, email=email, role=role,
                                    created_by=membership.user,
                                    expires_at=timezone.now() + timedelta(days=ttl))
    if email:
        link = settings.SITE_URL.rstrip("/") + reverse("workspaces:accept", args=[inv.token])
        send_mail(
            subject=f"{membership.user.display_name} invited you to {membership.workspace.name}",
            message=(f"You have been invited to join the workspace \"{membership.workspace.name}\" "
                     f"on copywriter as {inv.get_role_display()}.\n\nAccept: {link}\n\n"
                     f"The invitation expires on {inv.expires_at:%Y-%m-%d}."),
            from_email=None, recipient_list=[email])
    return inv


def invitation_revoke(*, membership: Membership, invitation_id: int) -> None:
    if not membership.is_owner:
        raise PermissionDenied("Only owners can revoke invitations.")
    Invitation.objects.filter(workspace=membership.workspace, pk=invitation_id).update(
        revoked_at=timezone.now())


class InvitationUnusable(Exception):
    pass


def invitation_accept(*, token: str, user: User) -> Membership:
    with transaction.atomic():
        inv = Invitation.objects.select_for_update().filter(token=token).first()
        if inv is None or not inv.usable():
            raise InvitationUnusable("This invitation has expired or was revoked. "
                                     "Ask the workspace owner for a new one.")
        if inv.email and inv.email.lower() != user.email.lower():
            raise InvitationUnusable(f"This invitation was sent to {inv.email}. Log in with that "
                                     "address to accept it.")
        membership, created = Membership.objects.get_or_create(
            workspace=inv.workspace, user=user, defaults={"role": inv.role})
        if inv.email:
            inv.accepted_at = timezone.now()
            inv.save(update_fields=["accepted_at"])
    return membership


def _owner_count(workspace: Workspace) -> int:
    return Membership.objects.filter(workspace=workspace, role=Role.OWNER).count()


def member_set_role(*, membership: Membership, member_id: int, role: str) -> Membership:
    if not membership.is_owner:
        raise PermissionDenied("Only owners can change roles.")
    if role not in Role.values:
        raise ValidationError("Unknown role.")
    with transaction.atomic():
        target = Membership.objects.select_for_update().get(workspace=membership.workspace,
                                                            pk=member_id)
        if target.role == Role.OWNER and role != Role.OWNER and _owner_count(target.workspace) <= 1:
            raise ValidationError("A workspace needs at least one owner. Make someone else an "
                                  "owner first.")
        target.role = role
        target.save(update_fields=["role"])
    return target


def member_remove(*, membership: Membership, member_id: int) -> None:
    if not membership.is_owner:
        raise PermissionDenied("Only owners can remove members.")
    with transaction.atomic():
        target = Membership.objects.select_for_update().get(workspace=membership.workspace,
                                                            pk=member_id)
        if target.role == Role.OWNER and _owner_count(target.workspace) <= 1:
            raise ValidationError("You cannot remove the last owner.")
        target.delete()


def workspace_leave(*, membership: Membership) -> None:
    with transaction.atomic():
        if membership.role == Role.OWNER and _owner_count(membership.workspace) <= 1:
            raise ValidationError("You are the last owner: make someone else an owner before you "
                                  "leave, or the workspace would be orphaned.")
        membership.delete()
