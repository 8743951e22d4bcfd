from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

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

