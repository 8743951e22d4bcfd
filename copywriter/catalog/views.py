from __future__ import annotations

import yaml
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copywriter.catalog import selectors, services
from copywriter.catalog.models import Template
from copywriter.catalog.schema import TemplateInvalid, load_user_yaml
from copywriter.core import pagecache, scopes
from copywriter.facts.models import scope as facts_scope
from copywriter.workspaces.decorators import require_writer, workspace_member
from copywriter.workspaces.types import MemberRequest

PAGE = 60


_SENTINEL = 2147483647


def _with_urls(ws: int, templates: list[Template]) -> list[Template]:
    """Each card's two URLs from one reverse() each for the whole page: three {% url %} tags per
    card were a large share of the catalog's render time (docs/web.md)."""
    detail = reverse("catalog:detail", args=[ws, _SENTINEL])
    favourite = reverse("catalog:favourite", args=[ws, _SENTINEL])
    for t in templates:
        t.detail_url = detail.replace(str(_SENTINEL), str(t.pk))  # type: ignore[attr-defined]
        t.fav_url = favourite.replace(str(_SENTINEL), str(t.pk))  # type: ignore[attr-defined]
    return templates


def _catalog_scopes(request: MemberRequest, **kwargs: object) -> list[str]:
    ws, user = request.membership.workspace_id, request.user.pk
    return [scopes.templates(None), scopes.templates(ws), scopes.favourites(user),
            scopes.recent(user), scopes.voices(ws), facts_scope(ws)]


@workspace_member()
@require_GET
@pagecache.cached_page(_catalog_scopes)
def index(request: MemberRequest) -> HttpResponse:
    ws = request.membership.workspace_id
    q = request.GET.get("q", "")[:100]
    category = request.GET.get("category", "")[:40]
    only_favs = request.GET.get("favourites") == "1"
    results = selectors.template_search(workspace_id=ws, q=q, category=category)
    favs = selectors.favourite_ids(user_id=request.user.pk, workspace_id=ws)
    if only_favs:
        results = results.filter(pk__in=favs)
    results = results.only("id", "title", "description", "category", "workspace_id")
    # A page of cards renders fast enough to follow typing; the rest is one refinement away.
    context: dict[str, object] = {
        "templates": _with_urls(ws, list(results[:PAGE])), "matched": results.count(), "q": q,
        "category": category, "only_favs": only_favs, "favs": favs,
    }
    if request.htmx and request.htmx.target == "template-results":
        return render(request, "catalog/index.html#results", context)
    counts = selectors.category_counts(workspace_id=ws)
    context["counts"] = counts
    context["recent"] = selectors.recently_used(user_id=request.user.pk, workspace_id=ws)
    context["total"] = sum(int(str(c["n"])) for c in counts)
    return render(request, "catalog/index.html", context)


@workspace_member(write_methods_need="viewer")
@require_POST
def favourite(request: MemberRequest, template_id: int) -> HttpResponse:
    ws = request.membership.workspace_id
    template = selectors.template_get(workspace_id=ws, template_id=template_id)
    on = services.favourite_toggle(membership=request.membership, template=template)
    if request.htmx:
        return render(request, "catalog/index.html#fav-button",
                      {"t": _with_urls(ws, [template])[0], "favs": {template.pk} if on else set(),
                       "membership": request.membership})
    return redirect("catalog:detail", ws=ws, template_id=template.pk)


STARTER = """id: my-template
title: My template
description: One sentence saying what it writes.
category: custom
tags: [custom]
fields:
  - name: product
    label: Product or service
    type: text
    required: true
    max_length: 120
    example: Acme running shoes
prompt: |
  Write a short product description for {{ product }}.
  Keep it under 80 words and end with a call to action.
output:
  format: plain
  min_words: 20
  max_words: 80
  variants: 3
samples:
  - product: Acme running shoes
sample_output: |
  Light, springy and built for long miles: Acme running shoes ...
"""


def _yaml_of(template: Template) -> str:
    assert template.current is not None
    return yaml.safe_dump(template.current.data, sort_keys=False, allow_unicode=True, width=100)


@workspace_member(write_methods_need="editor")
@require_http_methods(["GET", "POST"])
def template_edit(request: MemberRequest, template_id: int | None = None) -> HttpResponse:
    """Create (blank or duplicated from any visible template) or edit a workspace template.

    The editor holds the same YAML as templates_lib/ files and is validated by the same schema.
    """
    ws = request.membership.workspace_id
    template = None
    if template_id is not None:
        template = selectors.template_get(workspace_id=ws, template_id=template_id)
        if template.is_builtin:
            raise Http404("Built-in templates are duplicated, not edited.")
    source = request.GET.get("from")
    if request.method == "POST":
        text = request.POST.get("yaml", "")
    elif template is not None:
        text = _yaml_of(template)
    elif source and source.isdigit():
        original = selectors.template_get(workspace_id=ws, template_id=int(source))
        data = dict(original.current.data) if original.current else {}
        data["id"] = f"{data.get('id', 'template')}-copy"[:80]
        data["title"] = f"{data.get('title', 'Template')} (copy)"[:80]
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    else:
        text = STARTER
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        require_writer(request.membership)
        if len(text) > 20_000:
            errors, status = ["The template is over 20,000 characters."], 413
        else:
            try:
                data = load_user_yaml(text)
                saved = services.workspace_template_save(membership=request.membership, data=data,
                                                         template=template)
            except TemplateInvalid as exc:
                errors, status = exc.errors, 400
            except IntegrityError:
                errors, status = ["This workspace already has a template with that id."], 400
            else:
                messages.success(request, f"Saved \u201c{saved.title}\u201d.")
                return redirect("catalog:detail", ws=ws, template_id=saved.pk)
    return render(request, "catalog/edit.html", {"template": template, "yaml": text,
                                                 "errors": errors},
                  status=status)


@workspace_member()
@require_POST
def template_delete(request: MemberRequest, template_id: int) -> HttpResponse:
    ws = request.membership.workspace_id
    template = selectors.template_get(workspace_id=ws, template_id=template_id)
    if template.is_builtin:
        raise PermissionDenied("Built-in templates cannot be deleted.")
    services.template_delete(membership=request.membership, template=template)
    messages.success(request, f"Deleted \u201c{template.title}\u201d.")
    return redirect("catalog:index", ws=ws)
