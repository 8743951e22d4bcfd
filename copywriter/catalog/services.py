from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from copywriter.audit.services import record
from copywriter.catalog.models import Favourite, Template, TemplateVersion, search_text_for
from copywriter.catalog.schema import PromptTemplate, TemplateInvalid, load_library, parse_template
from copywriter.workspaces.decorators import require_writer
from copywriter.workspaces.models import Membership


@dataclass
class SyncReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    invalid: list[TemplateInvalid] | None = None


def _upsert(tpl: Template, spec: PromptTemplate) -> bool:
    """Point ``tpl`` at a version holding ``spec``; True when the content changed."""
    version, created = TemplateVersion.objects.get_or_create(
        template=tpl, content_hash=spec.content_hash, defaults={"data": spec.raw})
    changed = tpl.current_id != version.pk
    tpl.title, tpl.description, tpl.category = spec.title, spec.description, spec.category
    tpl.tags = list(spec.tags)
    tpl.search_text = search_text_for(spec.raw)
    tpl.current = version
    tpl.is_active = True
    if changed:
        tpl.updated_at = timezone.now()
    tpl.save()
    return changed


def templates_sync(*, root: Path) -> SyncReport:
    """Upsert built-ins by id and content hash; files that vanished are deactivated, not
    deleted, so generations keep pointing at the versions they used."""
    good, bad = load_library(root)
    report = SyncReport(invalid=bad)
    if bad:
        return report
    with transaction.atomic():
        existing = {t.slug: t for t in Template.objects.filter(workspace__isnull=True)}
        for spec in good:
            tpl = existing.pop(spec.id, None)
            if tpl is None:
                tpl = Template(slug=spec.id, workspace=None)
                tpl.save()
                _upsert(tpl, spec)
                report.created += 1
            elif _upsert(tpl, spec):
                report.updated += 1
            else:
                report.unchanged += 1
        for tpl in existing.values():
            if tpl.is_active:
                tpl.is_active = False
                tpl.save(update_fields=["is_active"])
                report.deactivated += 1
    return report


def workspace_template_save(*, membership: Membership, data: dict[str, Any],
                            template: Template | None = None) -> Template:
    """Create or edit a workspace's own template; same schema and validation as built-ins."""
    require_writer(membership, PermissionDenied("Viewers cannot change templates."))
    if template is not None and template.workspace_id != membership.workspace_id:
        raise PermissionDenied("Built-in templates cannot be edited; duplicate one instead.")
    spec = parse_template(data, source="your template")
    clash = Template.objects.filter(workspace=membership.workspace, slug=spec.id, is_active=True)
    if template is not None:
        clash = clash.exclude(pk=template.pk)
    if clash.exists():
        raise TemplateInvalid("your template", [f"this workspace already has a template with id "
                                                f"{spec.id!r}; choose another id"])
    # A deleted template's id can be used again: the old row keeps its versions for history.
    retired = Template.objects.filter(workspace=membership.workspace, slug=spec.id, is_active=False)
    if template is not None:
        retired = retired.exclude(pk=template.pk)
    retired.update(slug=f"{spec.id}-deleted-{timezone.now():%s}"[:80])
    with transaction.atomic():
        if template is None:
            template = Template(slug=spec.id, workspace=membership.workspace,
                                created_by=membership.user)
            template.save()
        else:
            template.slug = spec.id
        _upsert(template, spec)
    return template


def template_delete(*, membership: Membership, template: Template) -> None:
    if not membership.can_write or template.workspace_id != membership.workspace_id:
        raise PermissionDenied("Only a workspace's own templates can be deleted, by editors.")
    template.is_active = False  # generations keep their version; the catalog stops listing it
    with transaction.atomic():
        template.save(update_fields=["is_active"])
        record(workspace=membership.workspace_id, actor=membership.user,
               action="template.deleted", target=template,
               summary=f"deleted the template {template.title!r} ({template.slug})")


def favourite_toggle(*, membership: Membership, template: Template) -> bool:
    fav, created = Favourite.objects.get_or_create(user=membership.user,
                                                   workspace=membership.workspace,
                                                   template=template)
    if not created:
        fav.delete()
    return created
