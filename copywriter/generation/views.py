from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copywriter.core.htmx import render_poll
from copywriter.core.types import MemberRequest
from copywriter.generation import exports, selectors, services
from copywriter.generation import voices as voice_services
from copywriter.generation.models import BrandVoice
from copywriter.generation.tones import TONES
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


MAX_UPLOAD_BYTES = 2_000_000


@workspace_member()
@require_http_methods(["GET", "POST"])
def voices(request: MemberRequest) -> HttpResponse:
    """List voices; POST creates one from pasted text and/or an uploaded .txt/.md file."""
    ws = request.membership.workspace_id
    error, status = "", 200
    name = request.POST.get("name", "")
    pasted = request.POST.get("samples", "")
    if request.method == "POST":
        text = pasted
        upload = request.FILES.get("file")
        if upload is not None:
            if upload.size and upload.size > MAX_UPLOAD_BYTES:
                error, status = "The file is over 2 MB; upload a smaller one.", 413
            else:
                try:
                    text = text + "\n\n" + upload.read().decode("utf-8")
                except UnicodeDecodeError:
                    error, status = "The file is not UTF-8 text: save it as plain text.", 400
        if not error:
            try:
                voice = voice_services.voice_create(membership=request.membership, name=name,
                                                    samples=voice_services.split_samples(text))
            except voice_services.VoiceError as exc:
                error, status = str(exc), exc.status
            else:
                return redirect("generation:voice", ws=ws, voice_id=voice.pk)
    items = BrandVoice.objects.filter(workspace_id=ws).order_by("-created_at")
    return render(request, "generation/voices.html", {
        "voices": items, "error": error, "name": name, "samples": pasted,
        "min_samples": voice_services.MIN_SAMPLES}, status=status)


@workspace_member()
@require_GET
def voice(request: MemberRequest, voice_id: int) -> HttpResponse:
    v = get_object_or_404(BrandVoice, pk=voice_id, workspace_id=request.membership.workspace_id)
    context = {"voice": v, "active": v.status in ("queued", "training")}
    if request.htmx and request.htmx.target == "voice-progress":
        return render_poll(request, "generation/voice.html#progress", context,
                           done=not context["active"])
    return render(request, "generation/voice.html", context)


@workspace_member()
@require_POST
def voice_cancel(request: MemberRequest, voice_id: int) -> HttpResponse:
    v = get_object_or_404(BrandVoice, pk=voice_id, workspace_id=request.membership.workspace_id)
    voice_services.voice_cancel(membership=request.membership, voice=v)
    return redirect("generation:voice", ws=request.membership.workspace_id, voice_id=v.pk)


@workspace_member()
@require_POST
def voice_delete(request: MemberRequest, voice_id: int) -> HttpResponse:
    v = get_object_or_404(BrandVoice, pk=voice_id, workspace_id=request.membership.workspace_id)
    voice_services.voice_delete(membership=request.membership, voice=v)
    messages.success(request, f"Deleted the brand voice {v.name}.")
    return redirect("generation:voices", ws=request.membership.workspace_id)


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
