"""What the generation commands (``generate``, ``generate_bulk``) act as and on."""

from __future__ import annotations

from django.core.management.base import CommandError

from copywriter.accounts.models import User
from copywriter.catalog.models import Template
from copywriter.workspaces.models import Membership, Role
from copywriter.workspaces.services import workspace_create


def cli_target(*, template_slug: str, workspace_id: int | None) -> tuple[Membership, Template]:
    """The membership a command acts as (the workspace's owner, or a 'Command line' workspace
    of its own) and the template: the workspace's own with that id first, else the built-in."""
    qs = Template.objects.filter(slug=template_slug, is_active=True)
    template = (qs.filter(workspace_id=workspace_id).first() if workspace_id else None) \
        or qs.filter(workspace__isnull=True).first()
    if template is None:
        raise CommandError(f"no template {template_slug!r} (run `manage.py sync_templates`?)")
    if workspace_id:
        membership = Membership.objects.filter(workspace_id=workspace_id, role=Role.OWNER).first()
        if membership is None:
            raise CommandError(f"no workspace {workspace_id}")
    else:
        user, _ = User.objects.get_or_create(email="cli@localhost")
        membership = Membership.objects.filter(user=user).first() or Membership.objects.get(
            workspace=workspace_create(owner=user, name="Command line"), user=user)
    return membership, template
