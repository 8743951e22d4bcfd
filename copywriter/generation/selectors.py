from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from copywriter.catalog.models import Template
from copywriter.catalog.selectors import templates_visible
from copywriter.generation.models import Generation, Variant


def generations_for_workspace(*, workspace_id: int, q: str = "") -> QuerySet[Generation]:
    qs = Generation.objects.filter(workspace_id=workspace_id).select_related("template",
                                                                               "created_by")
    q = q.strip()
    if q:
        qs = qs.filter(Q(prompt__icontains=q) | Q(results__text__icontains=q)
                       | Q(template__title__icontains=q)).distinct()
    return qs.order_by("-created_at")


def generation_get(*, workspace_id: int, generation_id: int) -> Generation:
    return get_object_or_404(Generation.objects.select_related("template", "template_version"),
                             workspace_id=workspace_id, pk=generation_id)


def variant_get(*, workspace_id: int, generation_id: int, index: int) -> Variant:
    return get_object_or_404(Variant.objects.select_related("generation__template"),
                             generation__workspace_id=workspace_id,
                             generation_id=generation_id, index=index)


def recently_used(*, user_id: int, workspace_id: int, limit: int = 6) -> list[Template]:
    """The templates the user generated with lately in this workspace, newest first."""
    ids: list[int] = []
    rows = (Generation.objects.filter(created_by_id=user_id, workspace_id=workspace_id)
            .order_by("-created_at").values_list("template_id", flat=True)[:200])
    for tid in rows:
        if tid not in ids:
            ids.append(tid)
        if len(ids) >= limit:
            break
    by_id = {t.pk: t for t in templates_visible(workspace_id=workspace_id).filter(pk__in=ids)}
    return [by_id[i] for i in ids if i in by_id]
