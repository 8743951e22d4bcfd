"""The SEO panel: analysis (GET, so viewers can use it; nothing is saved), suggestions, saved
keywords, keyword lists, and the enrich / accept / reject flow (editors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copywriter.core.htmx import render_poll
from copywriter.documents import selectors as document_selectors
from copywriter.documents.models import Document
from copywriter.generation import selectors as generation_selectors
from copywriter.generation.models import Variant
from copywriter.generation.services import tone_choices
from copywriter.seo import selectors, services
from copywriter.seo.models import Enrichment
from copywriter.seo.report import analyse
from copywriter.workspaces.decorators import workspace_member
from copywriter.workspaces.types import MemberRequest

SUGGEST_POLLS = 30  # ~45 s of waiting for a worker's KeyBERT answer, then YAKE's list stays


@dataclass
class Target:
    """What a panel analyses: a document's head version or a finished generation variant."""

    name: str  # "document" | "variant"
    text: str
    title: str
    kind: str
    brief: str
    panel_id: str
    panel_url: str
    suggest_url: str
    enrich_url: str
    back_url: str
    back_label: str
    saved: list[str] = field(default_factory=list)
    keywords_url: str = ""
    document: Document | None = None
    variant: Variant | None = None


def _document_target(request: MemberRequest, document_id: int) -> Target:
    ws = request.membership.workspace_id
    doc = document_selectors.document_get(workspace_id=ws, document_id=document_id)
    return Target(
        name="document", text=doc.body, title=doc.title, kind="auto", brief="",
        panel_id=f"seo-doc-{doc.pk}",
        panel_url=reverse("seo:document_panel", args=[ws, doc.pk]),
        suggest_url=reverse("seo:document_suggest", args=[ws, doc.pk]),
        enrich_url=reverse("seo:document_enrich", args=[ws, doc.pk]),
        keywords_url=reverse("seo:document_keywords", args=[ws, doc.pk]),
        back_url=reverse("documents:edit", args=[ws, doc.pk]), back_label=doc.title,
        saved=selectors.document_keywords(document=doc), document=doc)


def _variant_target(request: MemberRequest, generation_id: int, index: int) -> Target:
    ws = request.membership.workspace_id
    v = generation_selectors.variant_get(workspace_id=ws, generation_id=generation_id,
                                         index=index)
    gen = v.generation
    brief = "\n".join(str(value) for value in gen.fields.values() if value)
    return Target(
        name="variant", text=v.text, title="", kind=selectors.kind_for_template(gen.template.slug),
        brief=brief, panel_id=f"seo-gen-{gen.pk}-{index}",
        panel_url=reverse("seo:variant_panel", args=[ws, gen.pk, index]),
        suggest_url=reverse("seo:variant_suggest", args=[ws, gen.pk, index]),
        enrich_url=reverse("seo:variant_enrich", args=[ws, gen.pk, index]),
        back_url=reverse("generation:detail", args=[ws, gen.pk]),
        back_label=f"{gen.template.title}, variant {index + 1}", variant=v)


def _requested_keywords(request: MemberRequest, target: Target) -> tuple[str, list[str], str]:
    """(the text in the keywords box, the parsed keywords, an error): typed keywords first,
    then a workspace list picked from the menu, then the document's saved keywords."""
    data = request.POST if request.method == "POST" else request.GET
    if "keywords" in data:
        raw = data.get("keywords", "")
    elif data.get("list", "").isdigit():
        kl = selectors.keyword_list_get(workspace_id=request.membership.workspace_id,
                                        list_id=int(data["list"]))
        raw = ", ".join(kl.keywords)
    else:
        raw = ", ".join(target.saved)
    try:
        return raw, services.clean_keywords(raw, required=False), ""
    except services.SeoError as exc:
        return raw, [], exc.message


def _enrichment_context(e: Enrichment, index: int | None = None) -> dict[str, Any]:
    view = selectors.enrichment_view(enrichment=e)
    chosen = view.candidate(index)
    return {"e": e, "ev": view, "chosen": chosen,
            "diff": selectors.word_diff(e.source_text, chosen.text) if chosen else [],
            "before": view.before, "after": chosen.report if chosen else None}


def _panel(request: MemberRequest, target: Target, *, raw: str | None = None,
           keywords: list[str] | None = None, error: str = "", notice: str = "",
           status: int = 200) -> HttpResponse:
    if keywords is None or raw is None:
        raw, keywords, parse_error = _requested_keywords(request, target)
        error = error or parse_error
    report = analyse(target.text, keywords, title=target.title, kind=target.kind)
    ws = request.membership.workspace_id
    if target.document is not None:
        pending = selectors.open_enrichments(workspace_id=ws, document=target.document).first()
        tones = tone_choices(workspace_id=ws)
        source_tone = services.document_source_tone(document=target.document)
    else:
        assert target.variant is not None
        pending = selectors.open_enrichments(workspace_id=ws,
                                             generation_id=target.variant.generation_id,
                                             index=target.variant.index).first()
        tones, source_tone = [], target.variant.generation.tone
    context: dict[str, Any] = {
        "t": target, "raw": raw, "keywords": keywords, "report": report, "error": error,
        "notice": notice, "lists": selectors.keyword_lists(workspace_id=ws), "tones": tones,
        "source_tone": source_tone, "nav": "documents" if target.document else "generate",
        "enrich_max": services.ENRICH_MAX_CHARS}
    if pending is not None:
        context.update(_enrichment_context(pending))
    name = "seo/panel.html#panel" if request.htmx else "seo/panel.html"
    return render(request, name, context, status=status)


@workspace_member()
@require_GET
def document_panel(request: MemberRequest, document_id: int) -> HttpResponse:
    return _panel(request, _document_target(request, document_id))


@workspace_member()
@require_GET
def variant_panel(request: MemberRequest, generation_id: int, index: int) -> HttpResponse:
    return _panel(request, _variant_target(request, generation_id, index))


def _suggest(request: MemberRequest, target: Target) -> HttpResponse:
    answer = services.suggestions_request(workspace_id=request.membership.workspace_id,
                                          text=target.text, brief=target.brief)
    try:
        polls = int(request.GET.get("poll", "0"))
    except ValueError:
        polls = 0
    context = {"t": target, "answer": answer, "poll": polls + 1,
               "waiting": not answer.complete and polls < SUGGEST_POLLS,
               "gave_up": not answer.complete and polls >= SUGGEST_POLLS}
    if request.htmx:
        return render(request, "seo/panel.html#suggestions", context)
    return render(request, "seo/suggestions.html", context)


@workspace_member()
@require_GET
def document_suggest(request: MemberRequest, document_id: int) -> HttpResponse:
    return _suggest(request, _document_target(request, document_id))


@workspace_member()
@require_GET
def variant_suggest(request: MemberRequest, generation_id: int, index: int) -> HttpResponse:
    return _suggest(request, _variant_target(request, generation_id, index))


@workspace_member()
@require_POST
def document_keywords_save(request: MemberRequest, document_id: int) -> HttpResponse:
    target = _document_target(request, document_id)
    raw, keywords, error = _requested_keywords(request, target)
    if not error:
        assert target.document is not None
        try:
            services.document_keywords_save(membership=request.membership,
                                            document=target.document, keywords=keywords)
        except services.SeoError as exc:
            error = exc.message
        else:
            target.saved = keywords
    if not request.htmx and not error:
        messages.success(request, "Keywords saved for this document.")
        return redirect(target.panel_url)
    return _panel(request, target, raw=raw, keywords=keywords, error=error,
                  notice="" if error else "Keywords saved for this document.",
                  status=400 if error else 200)


def _enrich(request: MemberRequest, target: Target) -> HttpResponse:
    raw, keywords, error = _requested_keywords(request, target)
    enrichment = None
    if not error:
        try:
            keywords = services.clean_keywords(raw)
            if target.document is not None:
                tone = request.POST.get("tone") or None
                enrichment = services.enrichment_start_document(
                    membership=request.membership, document=target.document, keywords=keywords,
                    tone=tone)
            else:
                assert target.variant is not None
                enrichment = services.enrichment_start_variant(
                    membership=request.membership, variant=target.variant, keywords=keywords)
        except services.SeoError as exc:
            return _panel(request, target, raw=raw, keywords=keywords, error=exc.message,
                          status=exc.status)
    if error:
        return _panel(request, target, raw=raw, keywords=keywords, error=error, status=400)
    assert enrichment is not None
    if request.htmx:
        return _panel(request, target, raw=raw, keywords=keywords)
    return redirect("seo:enrichment", ws=request.membership.workspace_id,
                    enrichment_id=enrichment.pk)


@workspace_member()
@require_POST
def document_enrich(request: MemberRequest, document_id: int) -> HttpResponse:
    return _enrich(request, _document_target(request, document_id))


@workspace_member()
@require_POST
def variant_enrich(request: MemberRequest, generation_id: int, index: int) -> HttpResponse:
    return _enrich(request, _variant_target(request, generation_id, index))


def _index(data: Any) -> int | None:
    value = data.get("index", "")
    return int(value) if str(value).isdigit() else None


@workspace_member()
@require_GET
def enrichment(request: MemberRequest, enrichment_id: int) -> HttpResponse:
    e = selectors.enrichment_get(workspace_id=request.membership.workspace_id,
                                 enrichment_id=enrichment_id)
    context = {**_enrichment_context(e, _index(request.GET)), "nav": "documents"}
    if request.htmx and request.htmx.target == f"enrichment-{e.pk}":
        return render_poll(request, "seo/enrichment.html#enrichment", context,
                           done=not e.generation.is_active)
    return render(request, "seo/enrichment.html", context)


@workspace_member()
@require_POST
def enrichment_accept(request: MemberRequest, enrichment_id: int) -> HttpResponse:
    ws = request.membership.workspace_id
    e = selectors.enrichment_get(workspace_id=ws, enrichment_id=enrichment_id)
    index = _index(request.POST)
    try:
        if index is None:
            raise services.SeoError("Choose one of the finished rewrites.")
        result = services.enrichment_accept(membership=request.membership, enrichment=e,
                                            index=index)
    except services.SeoError as exc:
        context = {**_enrichment_context(e, index), "error": exc.message, "nav": "documents"}
        return render(request, "seo/enrichment.html", context, status=exc.status)
    if result.conflict:
        e.refresh_from_db()
        context = {**_enrichment_context(e, index), "conflict": result, "nav": "documents"}
        return render(request, "seo/enrichment.html", context, status=409)
    if e.document_id is not None:
        messages.success(request, f"The rewrite is now version {result.number}.")
    else:
        messages.success(request, "The rewrite was saved to a new document.")
    return redirect("documents:edit", ws=ws, document_id=result.document.pk)


@workspace_member()
@require_POST
def enrichment_reject(request: MemberRequest, enrichment_id: int) -> HttpResponse:
    ws = request.membership.workspace_id
    e = selectors.enrichment_get(workspace_id=ws, enrichment_id=enrichment_id)
    try:
        services.enrichment_reject(membership=request.membership, enrichment=e)
    except services.SeoError as exc:
        context = {**_enrichment_context(e), "error": exc.message, "nav": "documents"}
        return render(request, "seo/enrichment.html", context, status=exc.status)
    messages.success(request, "Rewrite rejected; the copy is unchanged.")
    if e.document_id is not None:
        return redirect("documents:edit", ws=ws, document_id=e.document_id)
    return redirect("generation:detail", ws=ws, generation_id=e.source_generation_id)


@workspace_member()
@require_http_methods(["GET", "POST"])
def keyword_lists(request: MemberRequest) -> HttpResponse:
    """The workspace's keyword lists; POST saves one (a name seen before replaces its keywords).
    The panels post here too ("Save as list"): htmx gets a one-line answer in place."""
    ws = request.membership.workspace_id
    error, status, saved = "", 200, None
    name = request.POST.get("name", "")
    raw = request.POST.get("keywords", "")
    if request.method == "POST":
        try:
            saved = services.keyword_list_save(membership=request.membership, name=name,
                                               keywords=services.clean_keywords(raw))
        except services.SeoError as exc:
            error, status = exc.message, exc.status
    if request.htmx and request.method == "POST":
        return render(request, "seo/lists.html#saved", {"saved": saved, "error": error},
                      status=status)
    if saved is not None:
        messages.success(request, f"Saved the keyword list \u201c{saved.name}\u201d.")
        return redirect("seo:lists", ws=ws)
    return render(request, "seo/lists.html", {
        "lists": selectors.keyword_lists(workspace_id=ws), "error": error, "name": name,
        "raw": raw, "nav": "documents"}, status=status)


@workspace_member()
@require_POST
def keyword_list_delete(request: MemberRequest, list_id: int) -> HttpResponse:
    kl = selectors.keyword_list_get(workspace_id=request.membership.workspace_id, list_id=list_id)
    try:
        services.keyword_list_delete(membership=request.membership, keyword_list=kl)
    except services.SeoError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Deleted the keyword list \u201c{kl.name}\u201d.")
    return redirect("seo:lists", ws=request.membership.workspace_id)

