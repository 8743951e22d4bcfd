"""Generations: start one (queued), read its status and variants, retry it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Status

from copywriter.api import schemas as s
from copywriter.api.auth import member, writer
from copywriter.api.inputs import refuse_unstorable
from copywriter.api.routers.templates import template_by_slug
from copywriter.generation import selectors as generation_selectors
from copywriter.generation import services as generation_services
from copywriter.generation.models import Generation

router = Router(tags=["generations"])


def _generation_out(gen: Generation) -> dict[str, Any]:
    return {"id": gen.pk, "status": gen.status, "template": gen.template.slug, "tone": gen.tone,
            "fields": gen.fields, "variants_requested": gen.variants, "error": gen.error,
            "error_permanent": gen.error_permanent, "retry_of": gen.retry_of_id,
            "created_at": gen.created_at, "finished_at": gen.finished_at,
            "variants": [{"index": v.index, "text": v.text, "finished": v.finished,
                          "tokens": v.tokens, "originality": v.originality, "claims": v.claims,
                          "style": v.style,
                          "slots": v.slots, "choice": v.choice}
                         for v in gen.results.all()],
            "facts": gen.facts or {},
            "url": reverse("generation:detail", args=[gen.workspace_id, gen.pk])}


@router.post("/generations", response={202: s.GenerationOut, 400: s.ErrorOut,
                                       403: s.ErrorOut, 404: s.ErrorOut, 413: s.ErrorOut,
                                       429: s.ErrorOut},
             summary="Start a generation (queued; poll GET /generations/{id})")
def generation_create(request: HttpRequest, payload: s.GenerationIn) -> Status[dict[str, Any]]:
    membership = writer(request)
    refuse_unstorable(payload.model_dump())
    template = template_by_slug(membership.workspace_id, payload.template)
    gen = generation_services.generation_create(
        membership=membership, template=template, fields=payload.fields, tone=payload.tone,
        variants=payload.variants, length=payload.length, fact_sheets=payload.fact_sheets)
    return Status(202, _generation_out(gen))


@router.get("/generations/{generation_id}",
            response={200: s.GenerationOut, 404: s.ErrorOut},
            summary="A generation's status, variants and originality reports")
def generation_detail(request: HttpRequest, generation_id: int) -> dict[str, Any]:
    gen = generation_selectors.generation_get(workspace_id=member(request).workspace_id,
                                              generation_id=generation_id)
    return _generation_out(gen)


@router.post("/generations/{generation_id}/retry",
             response={202: s.GenerationOut, 403: s.ErrorOut, 404: s.ErrorOut,
                       429: s.ErrorOut},
             summary="Run a generation again with the same inputs, as a new generation")
def generation_retry(request: HttpRequest, generation_id: int) -> Status[dict[str, Any]]:
    membership = writer(request)
    gen = generation_selectors.generation_get(workspace_id=membership.workspace_id,
                                              generation_id=generation_id)
    new = generation_services.generation_retry(membership=membership, generation=gen)
    return Status(202, _generation_out(new))
