from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from copywriter.core.types import MemberRequest
from copywriter.generation import exports, selectors, services
from copywriter.generation.tones import TONES
from copywriter.voices.models import BrandVoice
from copywriter.workspaces.decorators import workspace_member


def _tone_label(tone: str) -> str:
    if tone in TONES:
        return tone.title()
    voice = BrandVoice.objects.filter(pk=tone.removeprefix("voice-")).first() if tone.removeprefix(
        "voice-").isdigit() else None
    return f"Brand voice: {voice.name}" if voice else tone


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
        response = render(request, "generation/detail.html#status", context)
        if not gen.is_active:
            # 286 tells htmx to stop polling; the final state is in this same response.
            stop = HttpResponseStopPolling(response.content)
            return stop
        return response
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
    response = HttpResponse(exports.search_ads_csv(gen, list(gen.results.filter(finished=True))),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="search-ads-{gen.pk}.csv"'
    return response
