from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copywriter.core.htmx import render_poll
from copywriter.voices import selectors, services
from copywriter.workspaces.decorators import workspace_member
from copywriter.workspaces.types import MemberRequest

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
                voice = services.voice_create(membership=request.membership, name=name,
                                              samples=services.split_samples(text))
            except services.VoiceError as exc:
                error, status = str(exc), exc.status
            else:
                return redirect("generation:voice", ws=ws, voice_id=voice.pk)
    items = selectors.voices_for_workspace(workspace_id=ws)
    return render(request, "voices/voices.html", {
        "voices": items, "error": error, "name": name, "samples": pasted,
        "min_samples": services.MIN_SAMPLES}, status=status)


@workspace_member()
@require_GET
def voice(request: MemberRequest, voice_id: int) -> HttpResponse:
    v = selectors.voice_get(workspace_id=request.membership.workspace_id, voice_id=voice_id)
    context = {"voice": v, "active": v.status in ("queued", "training")}
    if request.htmx and request.htmx.target == "voice-progress":
        return render_poll(request, "voices/voice.html#progress", context,
                           done=not context["active"])
    return render(request, "voices/voice.html", context)


@workspace_member()
@require_POST
def voice_cancel(request: MemberRequest, voice_id: int) -> HttpResponse:
    v = selectors.voice_get(workspace_id=request.membership.workspace_id, voice_id=voice_id)
    services.voice_cancel(membership=request.membership, voice=v)
    return redirect("generation:voice", ws=request.membership.workspace_id, voice_id=v.pk)


@workspace_member()
@require_POST
def voice_delete(request: MemberRequest, voice_id: int) -> HttpResponse:
    v = selectors.voice_get(workspace_id=request.membership.workspace_id, voice_id=voice_id)
    services.voice_delete(membership=request.membership, voice=v)
    messages.success(request, f"Deleted the brand voice {v.name}.")
    return redirect("generation:voices", ws=request.membership.workspace_id)
