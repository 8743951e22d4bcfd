from __future__ import annotations

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from copywriter.catalog.models import Favourite, Template


def templates_visible(*, workspace_id: int) -> QuerySet[Template]:
    """Built-ins plus this workspace's own, active ones only."""
    return Template.objects.filter(Q(workspace__isnull=True) | Q(workspace_id=workspace_id),
                                   is_active=True)


def template_search(*, workspace_id: int, q: str = "", category: str = "") -> QuerySet[Template]:
    """Every term must appear in title, description, category or tags; title hits rank first."""
    qs = templates_visible(workspace_id=workspace_id)
    terms = q.lower().split()[:8]
    for term in terms:
        qs = qs.filter(search_text__contains=term)
    if category:
        qs = qs.filter(category=category)
    if not terms:
        return qs.order_by("category", "title")
    in_title = Q()
    for term in terms:
        in_title &= Q(title__icontains=term)
    return qs.annotate(rank=Case(When(in_title, then=Value(0)), default=Value(1),
                                 output_field=IntegerField())).order_by("rank", "title")


def category_counts(*, workspace_id: int) -> list[dict[str, object]]:
    rows = (templates_visible(workspace_id=workspace_id).values("category")
            .annotate(n=Count("id")).order_by("category"))
    return [dict(row) for row in rows]


def template_get(*, workspace_id: int, template_id: int) -> Template:
    try:
        return templates_visible(workspace_id=workspace_id).select_related("current").get(
            pk=template_id)
    except Template.DoesNotExist:
        raise Http404("No such template") from None


def favourite_ids(*, user_id: int, workspace_id: int) -> set[int]:
    return set(Favourite.objects.filter(user_id=user_id, workspace_id=workspace_id)
               .values_list("template_id", flat=True))


def recently_used(*, user_id: int, workspace_id: int, limit: int = 6) -> list[Template]:
    # The user's last generations through the reverse relation (Template.generations): generation
    # sits above catalog, so catalog queries its rows without importing it.
    ids: list[int] = []
    rows = (Template.objects.filter(generations__created_by_id=user_id,
                                    generations__workspace_id=workspace_id)
            .order_by("-generations__created_at").values_list("pk", flat=True)[:200])
    for tid in rows:
        if tid not in ids:
            ids.append(tid)
        if len(ids) >= limit:
            break
    by_id = {t.pk: t for t in templates_visible(workspace_id=workspace_id).filter(pk__in=ids)}
    return [by_id[i] for i in ids if i in by_id]
