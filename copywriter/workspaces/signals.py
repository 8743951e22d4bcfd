from __future__ import annotations

from django.dispatch import Signal

# Sent inside the change's transaction (a rolled-back change was never announced) by the
# services of this app, with ``workspace``, ``actor`` (the user who did it), ``action`` (dotted:
# "member.added", "member.role_changed", "member.removed", "member.left", "invitation.created",
# "invitation.revoked", "workspace.created", "workspace.renamed", "workspace.settings_changed"),
# ``target`` (the Membership, Invitation or Workspace), ``summary`` (one sentence) and
# ``details`` (small JSON facts). The audit trail records each one.
membership_changed = Signal()
