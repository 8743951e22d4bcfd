from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copywriter.audit.services import record
from copywriter.catalog import selectors as catalog_selectors
from copywriter.core import pagecache, scopes
from copywriter.core.htmx import render_poll
from copywriter.facts.models import scope as facts_scope
from copywriter.facts.views import choices_context
from copywriter.generation import exports, selectors, services
from copywriter.generation.forms import generate_form_class
from copywriter.generation.tones import TONES
from copywriter.voices.models import BrandVoice
from copywriter.workspaces.decorators import workspace_member
from copywriter.workspaces.types import MemberRequest


def _tone_label(tone: str) -> str:
    if tone in TONES:
        return tone.title()
    voice = BrandVoice.objects.filter(pk=tone.removeprefix("voice-")).first() if tone.removeprefix(
        "voice-").isdigit() else None
    return f"Brand voice: {voice.name}" if voice else tone


def _template_page_scopes(request: MemberRequest, **kwargs: object) -> list[str]:
    # The scopes of the catalog's pages (catalog.views._catalog_scopes), as when catalog served
    # this one: templates, the user's favourites, the tones with the workspace's voices, facts.
    ws, user = request.membership.workspace_id, request.user.pk
    return [scopes.templates(None), scopes.templates(ws), scopes.favourites(user),
            scopes.recent(user), scopes.voices(ws), facts_scope(ws)]


@workspace_member()
@require_http_methods(["GET", "POST"])
@pagecache.cached_page(_template_page_scopes)
def generate(request: MemberRequest, template_id: int) -> HttpResponse:
    """A template's page (catalog:detail): preview (fields, sample output) and the generate form;
    POST starts a generation."""
    ws = request.membership.workspace_id
    template = catalog_selectors.template_get(workspace_id=ws, template_id=template_id)
    spec = template.spec()
    tones = services.tone_choices(workspace_id=ws)
    form_class = generate_form_class(spec, tones, settings.GENERATION_MAX_VARIANTS)
    status = 200
    error = fact_error = ""
    fact_ids = request.POST.getlist("fact_sheets") if request.method == "POST" else []
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            fields = {f.name: request.POST.get(f.name, "") for f in spec.fields}
            try:
                gen = services.generation_create(membership=request.membership, template=template,
                                                 fields=fields, tone=form.cleaned_data["tone"],
                                                 variants=form.cleaned_data["variants"],
                                                 length=form.cleaned_data["length"],
                                                 fact_sheets=fact_ids)
            except services.GenerationError as exc:
                for name, message in exc.field_errors.items():
                    if name == "fact_sheets":  # the checkboxes are not a field of the form
                        fact_error = message
                        continue
                    form.add_error(None if name == "__all__" else name, message)
                error, status = exc.message, exc.status
            else:
                return redirect("generation:detail", ws=ws, generation_id=gen.pk)
        else:
            status = 400
    else:
        form = form_class(initial={"tone": "professional"})
    # Suggestions need the brief: none on the (cached) empty form; the checkboxes ask for them
    # (facts:suggest) as the user types, and a form shown again suggests from what it holds.
    brief = " ".join(str(request.POST.get(f.name, "")) for f in spec.fields)
    return render(request, "generation/generate.html", {
        "template": template, "spec": spec, "form": form, "error": error,
        "is_fav": template.pk in catalog_selectors.favourite_ids(user_id=request.user.pk, workspace_id=ws),
        **choices_context(workspace_id=ws, brief=brief, ticked=fact_ids,
                          suggested=request.method == "POST"),
        "fact_error": fact_error,
    }, status=status)


@workspace_member()
@require_GET
def history(request: MemberRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:200]
    gens = selectors.generations_for_workspace(workspace_id=request.membership.workspace_id, q=q)
    context = {"generations": gens[:100], "q": q}
    if request.htmx and request.htmx.target == "generation-results":
        return render(request, "generation/history.html#results", context)
    return render(request, "generation/history.html", context)


@workspace_member()
@require_GET
def detail(request: MemberRequest, generation_id: int) -> HttpResponse:
    gen = selectors.generation_get(workspace_id=request.membership.workspace_id,
                                   generation_id=generation_id)
    variants = list(gen.results.all())
    for v in variants:
        v.slot_view = exports.slot_view(gen, v)  # type: ignore[attr-defined]
    context = {"gen": gen, "variants": variants, "tone_label": _tone_label(gen.tone),
               "ads_export": exports.is_search_ad(gen)}
    if request.htmx and request.htmx.target == "generation-status":
        return render_poll(request, "generation/detail.html#status", context,
                           done=not gen.is_active)
    return render(request, "generation/detail.html", context)


@workspace_member()
@require_POST
def retry(request: MemberRequest, generation_id: int) -> HttpResponse:
    gen = selectors.generation_get(workspace_id=request.membership.workspace_id,
                                   generation_id=generation_id)
    try:
        new = services.generation_retry(membership=request.membership, generation=gen)
    except services.GenerationError as exc:
        messages.error(request, exc.message)
        return redirect("generation:detail", ws=request.membership.workspace_id,
                        generation_id=gen.pk)
    return redirect("generation:detail", ws=request.membership.workspace_id, generation_id=new.pk)


@workspace_member()
@require_POST
def cancel(request: MemberRequest, generation_id: int) -> HttpResponse:
    gen = selectors.generation_get(workspace_id=request.membership.workspace_id,
                                   generation_id=generation_id)
    services.generation_cancel(membership=request.membership, generation=gen)
    return redirect("generation:detail", ws=request.membership.workspace_id, generation_id=gen.pk)


@workspace_member()
@require_POST
def rate(request: MemberRequest, generation_id: int, index: int) -> HttpResponse:
    v = selectors.variant_get(workspace_id=request.membership.workspace_id,
                              generation_id=generation_id, index=index)
    try:
        value = int(request.POST.get("rating", "0"))
    except ValueError:
        value = 0
    services.variant_rate(membership=request.membership, variant=v, rating=value)
    if request.htmx:
        return render(request, "generation/detail.html#rating", {"v": v, "gen": v.generation})
    return redirect("generation:detail", ws=request.membership.workspace_id,
                    generation_id=generation_id)


@workspace_member()
@require_POST
def save_to_document(request: MemberRequest, generation_id: int, index: int) -> HttpResponse:
    v = selectors.variant_get(workspace_id=request.membership.workspace_id,
                              generation_id=generation_id, index=index)
    doc = services.variant_to_document(membership=request.membership, variant=v)
    messages.success(request, "Saved to a new document.")
    return redirect("documents:edit", ws=request.membership.workspace_id, document_id=doc.pk)


@workspace_member()
@require_GET
def export_search_ads(request: MemberRequest, generation_id: int) -> HttpResponse:
    """The variants of a responsive search ad as a CSV that Google Ads Editor imports."""
    gen = selectors.generation_get(workspace_id=request.membership.workspace_id,
                                   generation_id=generation_id)
    if not exports.is_search_ad(gen):
        return HttpResponse("Only a search ad's variants export to Google Ads Editor.",
                            status=400, content_type="text/plain")
    variants = list(gen.results.filter(finished=True))
    record(workspace=request.membership.workspace_id, actor=request.user,
           action="generation.exported", target=gen,
           summary=f"exported {len(variants)} search-ad variants of {gen.template.title!r} "
                   "for Google Ads Editor",
           details={"format": "csv", "variants": len(variants)})
    response = HttpResponse(exports.search_ads_csv(gen, variants),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="search-ads-{gen.pk}.csv"'
    return response
