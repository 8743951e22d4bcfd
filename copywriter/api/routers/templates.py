"""The template library as the API shows it: search, and one template's fields and limits."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router

from copywriter.api import schemas as s
from copywriter.api.auth import member
from copywriter.api.inputs import refuse_unstorable
from copywriter.catalog import selectors as catalog_selectors
from copywriter.catalog.models import Template
from copywriter.generation import services as generation_services
from copywriter.generation.tones import LENGTHS

router = Router(tags=["templates"])


def _template_out(t: Template) -> dict[str, Any]:
    return {"id": t.pk, "slug": t.slug, "title": t.title, "description": t.description,
            "category": t.category, "builtin": t.is_builtin}


@router.get("/templates", response={200: s.TemplatePage, 400: s.ErrorOut},
            summary="Search the templates this workspace can use")
def template_list(request: HttpRequest, q: str = Query("", max_length=100),
                  category: str = Query("", max_length=40), limit: int = Query(20, ge=1, le=100),
                  offset: int = Query(0, ge=0, le=100_000)) -> dict[str, Any]:
    refuse_unstorable({"q": q, "category": category})
    qs = catalog_selectors.template_search(workspace_id=member(request).workspace_id, q=q,
                                           category=category)
    return {"count": qs.count(), "limit": limit, "offset": offset,
            "items": [_template_out(t) for t in qs[offset:offset + limit]]}


def template_by_slug(workspace_id: int, slug: str) -> Template:
    """The workspace's own template with this slug, else the built-in one; 404 otherwise."""
    qs = catalog_selectors.templates_visible(workspace_id=workspace_id).filter(
        slug=slug[:80], current__isnull=False).select_related("current")
    template = (qs.filter(workspace_id=workspace_id).first()
                or qs.filter(workspace__isnull=True).first())
    if template is None:
        raise Http404
    return template


@router.get("/templates/{slug}", response={200: s.TemplateDetailOut, 404: s.ErrorOut},
            summary="A template: its fields, limits, tones and lengths")
def template_detail(request: HttpRequest, slug: str) -> dict[str, Any]:
    refuse_unstorable(slug)
    ws = member(request).workspace_id
    t = template_by_slug(ws, slug)
    spec = t.spec()
    return {**_template_out(t), "tags": list(spec.tags), "variants": spec.variants,
            "min_words": spec.min_words, "max_words": spec.max_words,
            "fields": [{"name": f.name, "label": f.label, "type": f.type, "required": f.required,
                        "help": f.help, "max_length": f.max_length, "choices": list(f.choices),
                        "min": f.min, "max": f.max} for f in spec.fields],
            "tones": [key for key, _ in generation_services.tone_choices(workspace_id=ws)],
            "lengths": list(LENGTHS)}
