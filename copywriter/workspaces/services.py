from __future__ import annotations

import smtplib
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import BadHeaderError, send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from copywriter.accounts.models import User
from copywriter.accounts.services import reject_control_characters
from copywriter.workspaces.models import (
    MAX_CANDIDATES,
    MIN_CANDIDATES,
    Invitation,
    Membership,
    Role,
    Workspace,
)
from copywriter.workspaces.signals import membership_changed


def _announce(*, workspace: Workspace, actor: User | None, action: str, target: object,
              summary: str, details: dict[str, object] | None = None) -> None:
    """Tell the apps above (the audit trail) what changed, inside the change's transaction."""
    membership_changed.send(sender=Workspace, workspace=workspace, actor=actor, action=action,
                            target=target, summary=summary, details=details or {})


def workspace_create(*, owner: User, name: str) -> Workspace:
    """Every workspace has its own generation quota, so free workspaces would multiply it: a user
    makes at most ``WORKSPACES_PER_USER`` (the limits per user in generation hold anyway). The
    count is of workspaces the user made, so leaving one does not buy another."""
    reject_control_characters(name)
    name = name.strip()[:100] or "Workspace"
    with transaction.atomic():
        # Serialise one user's creations, so two at once cannot both pass the count.
        User.objects.select_for_update().filter(pk=owner.pk).first()
        made = Workspace.objects.filter(created_by=owner).count()
        if made >= settings.WORKSPACES_PER_USER:
            raise ValidationError(f"You have made {made} workspaces, the most one person can "
                                  f"make here ({settings.WORKSPACES_PER_USER}). Use one of them, "
                                  "or ask the administrator.")
        ws = Workspace.objects.create(name=name, created_by=owner)
        Membership.objects.create(workspace=ws, user=owner, role=Role.OWNER)
        _announce(workspace=ws, actor=owner, action="workspace.created", target=ws,
                  summary=f"created the workspace {ws.name!r}")
    return ws


def workspace_rename(*, membership: Membership, name: str) -> Workspace:
    if not membership.is_owner:
        raise PermissionDenied("Only owners can rename a workspace.")
    reject_control_characters(name)
    ws = membership.workspace
    old = ws.name
    ws.name = name.strip()[:100] or ws.name
    if ws.name == old:
        return ws
    with transaction.atomic():
        ws.save(update_fields=["name"])
        _announce(workspace=ws, actor=membership.user, action="workspace.renamed", target=ws,
                  summary=f"renamed the workspace from {old!r} to {ws.name!r}",
                  details={"old": old, "new": ws.name})
    return ws


def workspace_set_claims_policy(*, membership: Membership, policy: str) -> Workspace:
    """What the worker does with a variant that makes a claim the brief and the workspace's
    facts do not support: "cut" takes those sentences out of long-form copy, "flag" shows it
    marked, "hide" writes it again (bounded)."""
    allowed = dict(Workspace._meta.get_field("claims_policy").choices or [])
    if policy not in allowed:
        raise ValidationError(f"Unsupported claims: choose one of {', '.join(allowed)}.")
    return _set(membership, "claims_policy", policy, what="unsupported claims",
                shown=lambda v: repr(allowed.get(v, v)))


def workspace_set_candidates(*, membership: Membership, candidates: int) -> Workspace:
    """Best of N: how many candidates each shown variant is chosen from (1-8)."""
    if not isinstance(candidates, int) or not MIN_CANDIDATES <= candidates <= MAX_CANDIDATES:
        raise ValidationError(f"Candidates per variant: a whole number from {MIN_CANDIDATES} "
                              f"to {MAX_CANDIDATES}.")
    return _set(membership, "candidates", candidates, what="candidates per variant", shown=str)


def _set(membership: Membership, name: str, value: Any, *, what: str,
         shown: Callable[[Any], str]) -> Workspace:
    """One workspace setting changed by an owner, and announced (the audit log hears it)."""
    if not membership.is_owner:
        raise PermissionDenied(f"Only owners can change the {what}.")
    ws = membership.workspace
    old = getattr(ws, name)
    if old == value:
        return ws
    setattr(ws, name, value)
    with transaction.atomic():
        ws.save(update_fields=[name])
        _announce(workspace=ws, actor=membership.user, action="workspace.settings_changed",
                  target=ws, summary=f"set {what} to {shown(value)} (was {shown(old)})",
                  details={"setting": name, "old": old, "new": value})
    return ws


def _one_line(text: str) -> str:
    """Names stored before control characters were refused may still hold them; a header with a
    line break is refused by Django (BadHeaderError), so the subject gets spaces instead."""
    return " ".join("".join(" " if unicodedata.category(ch)[0] in "CZ" else ch
                            for ch in text).split())


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
    # The row and its email stand or fall together: the email is sent inside the transaction,
    # so a refused header or a mail server that is down leaves no invitation behind.
    with transaction.atomic():
        inv = Invitation.objects.create(workspace=membership.workspace, email=email, role=role,
                                        created_by=membership.user,
                                        expires_at=timezone.now() + timedelta(days=ttl))
        if email:
            _send_invitation(inv, inviter=membership.user)
        _announce(workspace=membership.workspace, actor=membership.user,
                  action="invitation.created", target=inv,
                  summary=(f"invited {email} as {role}" if email
                           else f"made a shareable invitation link for the {role} role"),
                  details={"email": email, "role": role, "days": ttl})
    return inv


def _send_invitation(inv: Invitation, *, inviter: User) -> None:
    link = settings.SITE_URL.rstrip("/") + reverse("workspaces:accept", args=[inv.token])
    workspace = _one_line(inv.workspace.name)
    try:
        send_mail(
            subject=f"{_one_line(inviter.display_name)} invited you to {workspace}"[:200],
            message=(f"You have been invited to join the workspace \"{workspace}\" on copywriter "
                     f"as {inv.get_role_display()}.\n\nAccept: {link}\n\n"
                     f"The invitation expires on {inv.expires_at:%Y-%m-%d}."),
            from_email=None, recipient_list=[inv.email])
    except (BadHeaderError, OSError, smtplib.SMTPException) as exc:
        raise ValidationError(f"The invitation email to {inv.email} could not be sent "
                              f"({exc.__class__.__name__}); no invitation was made. Try again "
                              "later, or make a shareable link instead.") from exc


def invitations_of_creator_revoke(*, workspace_id: int, user_id: int) -> int:
    """An invitation speaks for its creator: when the creator leaves, is removed or stops being
    an owner, their open invitations die with that authority (otherwise a removed owner could
    walk back in as owner through a link they made)."""
    return Invitation.objects.filter(workspace_id=workspace_id, created_by_id=user_id,
                                     revoked_at__isnull=True).update(revoked_at=timezone.now())


def invitation_usable(inv: Invitation) -> bool:
    """Not revoked, not expired, not used up, and its creator is still an owner here (checked
    again at use: rows made before creators' invitations were revoked on demotion, and any path
    that changes a membership without these services)."""
    if not inv.usable() or inv.created_by_id is None:
        return False
    return Membership.objects.filter(workspace_id=inv.workspace_id, user_id=inv.created_by_id,
                                     role=Role.OWNER, user__is_active=True).exists()


def invitation_revoke(*, membership: Membership, invitation_id: int) -> None:
    if not membership.is_owner:
        raise PermissionDenied("Only owners can revoke invitations.")
    with transaction.atomic():
        inv = (Invitation.objects.select_for_update()
               .filter(workspace=membership.workspace, pk=invitation_id).first())
        if inv is None or inv.revoked_at is not None:
            return  # revoking twice is a no-op (and not a second event)
        inv.revoked_at = timezone.now()
        inv.save(update_fields=["revoked_at"])
        _announce(workspace=membership.workspace, actor=membership.user,
                  action="invitation.revoked", target=inv,
                  summary=f"revoked the invitation for {inv.email or 'anyone with the link'}",
                  details={"email": inv.email, "role": inv.role})


class InvitationUnusable(Exception):
    pass


def invitation_accept(*, token: str, user: User) -> Membership:
    with transaction.atomic():
        inv = Invitation.objects.select_for_update().filter(token=token).first()
        if inv is None or not invitation_usable(inv):
            raise InvitationUnusable("This invitation has expired or was revoked. "
                                     "Ask the workspace owner for a new one.")
        if inv.email and inv.email.lower() != user.email.lower():
            raise InvitationUnusable(f"This invitation was sent to {inv.email}. Log in with that "
                                     "address to accept it.")
        membership, created = Membership.objects.get_or_create(
            workspace=inv.workspace, user=user, defaults={"role": inv.role})
        if created:
            _announce(workspace=inv.workspace, actor=user, action="member.added",
                      target=membership,
                      summary=f"{user.email} joined as {inv.role} by an invitation",
                      details={"email": user.email, "role": inv.role,
                               "invited_by": inv.created_by.email if inv.created_by else None})
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
        demoted = target.role == Role.OWNER and role != Role.OWNER
        old = target.role
        if old == role:
            return target
        target.role = role
        target.save(update_fields=["role"])
        revoked = 0
        if demoted:
            revoked = invitations_of_creator_revoke(workspace_id=target.workspace_id,
                                                    user_id=target.user_id)
        email = target.user.email
        _announce(workspace=target.workspace, actor=membership.user, action="member.role_changed",
                  target=target, summary=f"changed {email}'s role from {old} to {role}",
                  details={"email": email, "old": old, "new": role,
                           "invitations_revoked": revoked})
    return target


def member_remove(*, membership: Membership, member_id: int) -> None:
    if not membership.is_owner:
        raise PermissionDenied("Only owners can remove members.")
    with transaction.atomic():
        target = Membership.objects.select_for_update().get(workspace=membership.workspace,
                                                            pk=member_id)
        if target.role == Role.OWNER and _owner_count(target.workspace) <= 1:
            raise ValidationError("You cannot remove the last owner.")
        revoked = invitations_of_creator_revoke(workspace_id=target.workspace_id,
                                                user_id=target.user_id)
        email = target.user.email
        # Announced before the row goes, so the event keeps the membership's id.
        _announce(workspace=target.workspace, actor=membership.user, action="member.removed",
                  target=target, summary=f"removed {email} (was {target.role})",
                  details={"email": email, "role": target.role, "invitations_revoked": revoked})
        target.delete()


def workspace_leave(*, membership: Membership) -> None:
    with transaction.atomic():
        if membership.role == Role.OWNER and _owner_count(membership.workspace) <= 1:
            raise ValidationError("You are the last owner: make someone else an owner before you "
                                  "leave, or the workspace would be orphaned.")
        revoked = invitations_of_creator_revoke(workspace_id=membership.workspace_id,
                                                user_id=membership.user_id)
        email = membership.user.email
        _announce(workspace=membership.workspace, actor=membership.user, action="member.left",
                  target=membership,
                  summary=f"{email} left the workspace (was {membership.role})",
                  details={"email": email, "role": membership.role,
                           "invitations_revoked": revoked})
        membership.delete()
