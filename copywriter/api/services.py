"""API tokens: made, checked and revoked here. The secret itself is never stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from copywriter.api.models import ApiToken
from copywriter.audit.services import record
from copywriter.core.counters import bump
from copywriter.workspaces.decorators import require_writer
from copywriter.workspaces.models import ROLE_RANK, Membership, Role

TOKEN_PREFIX = "cw_"
MAX_ACTIVE_TOKENS = 50


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, to the person who made it


def token_create(*, membership: Membership, name: str, role: str) -> NewToken:
    """Owners and editors make tokens of at most their own role; viewers make none."""
    require_writer(membership, PermissionDenied(
        "Viewers cannot make API tokens; ask an owner for the editor role."))
    name = (name or "").replace("\x00", "").strip()  # NUL cannot be stored in PostgreSQL text
    if not name:
        raise ValidationError("Give the token a name that says where it is used.")
    if len(name) > 80:
        raise ValidationError("The name is over 80 characters.")
    if role not in Role.values:
        raise ValidationError("Choose a role from the list.")
    if ROLE_RANK[Role(role)] > ROLE_RANK[Role(membership.role)]:
        raise ValidationError(f"A token cannot have more than your own role ({membership.role}).")
    active = ApiToken.objects.filter(workspace_id=membership.workspace_id, revoked_at__isnull=True)
    if active.count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(f"This workspace has {MAX_ACTIVE_TOKENS} active tokens; revoke one "
                              "first.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(workspace_id=membership.workspace_id, name=name,
                                        created_by=membership.user, role=role,
                                        secret_hash=hash_secret(secret),
                                        prefix=secret[: len(TOKEN_PREFIX) + 6])
        record(workspace=membership.workspace_id, actor=membership.user, action="token.created",
               target=token, summary=f"made the API token {name!r} ({role})",
               details={"role": role, "prefix": token.prefix})
    return NewToken(token=token, secret=secret)


def token_revoke(*, membership: Membership, token_id: int) -> ApiToken:
    """Owners revoke any token of the workspace, editors their own. Revoking twice is a no-op."""
    token = ApiToken.objects.get(pk=token_id, workspace_id=membership.workspace_id)
    if not (membership.is_owner or (membership.can_write and token.created_by_id == membership.user_id)):
        raise PermissionDenied("Only owners can revoke other people's tokens.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = membership.user
        with transaction.atomic():
            token.save(update_fields=["revoked_at", "revoked_by"])
            record(workspace=membership.workspace_id, actor=membership.user,
                   action="token.revoked", target=token,
                   summary=f"revoked the API token {token.name!r}",
                   details={"role": token.role, "prefix": token.prefix})
    return token


class TokenRefused(Exception):
    """Why a presented token does not authenticate; the message is safe to show the caller."""


def token_authenticate(*, secret: str) -> tuple[ApiToken, Membership]:
    """The token and an *unsaved* membership carrying the effective role: the lower of the
    token's cap and its creator's current role. Raises ``TokenRefused``."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise TokenRefused("Unknown API token.")
    token = (ApiToken.objects.select_related("workspace", "created_by")
             .filter(secret_hash=hash_secret(secret)).first())
    if token is None:
        raise TokenRefused("Unknown API token.")
    if token.revoked_at is not None and token.revoked_by_id is None:
        # Revoked by tokens_revoke_on_membership_end, not by a person.
        raise TokenRefused("The person who made this API token is no longer a member of the "
                           "workspace (or left and came back): it was revoked. Make a new token.")
    if token.revoked_at is not None:
        raise TokenRefused("This API token was revoked.")
    member = Membership.objects.filter(workspace_id=token.workspace_id,
                                       user_id=token.created_by_id).first()
    if member is None or not token.created_by.is_active:
        raise TokenRefused("The person who made this API token is no longer a member of the "
                           "workspace; make a new token.")
    effective = min(Role(token.role), Role(member.role), key=lambda r: ROLE_RANK[r])
    acting = Membership(pk=member.pk, workspace=token.workspace, user=token.created_by,
                        role=effective, created_at=member.created_at)
    _touch(token)
    return token, acting


def _touch(token: ApiToken) -> None:
    """``last_used_at`` to the minute: one write a minute per token, not one per request."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def request_allowed(*, token: ApiToken, per_minute: int) -> int:
    """0 when the token may make another request this minute, else seconds until it may."""
    now = timezone.now()
    key = f"api-rate:{token.pk}:{now:%Y%m%d%H%M}"
    if bump(key, timeout=120) > per_minute:
        return 60 - now.second
    return 0


def tokens_revoke_on_membership_end(sender: object, instance: Membership, **kwargs: object) -> None:
    """A membership's end revokes the tokens its user made in that workspace. Until now they were
    refused only while the maker was away: on rejoining, the old tokens (secrets possibly copied
    elsewhere, perhaps the reason for the removal) worked again. Revoked is for good."""
    ApiToken.objects.filter(workspace_id=instance.workspace_id, created_by_id=instance.user_id,
                            revoked_at__isnull=True).update(revoked_at=timezone.now())
