"""SEO: analyse a text for keywords, and suggest keyphrases (YAKE, in the request)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router

from copywriter.api import schemas as s
from copywriter.api.auth import member
from copywriter.api.errors import ApiError
from copywriter.api.inputs import refuse_unstorable
from copywriter.seo.keywords import KeywordError, parse_keywords
from copywriter.seo.report import KINDS, analyse
from copywriter.seo.selectors import keyword_list_get
from copywriter.seo.suggestions import suggest_keywords

router = Router(tags=["seo"])


def _seo_text(text: str) -> str:
    if len(text) > settings.DOCUMENT_MAX_CHARS:
        raise ApiError(413, f"The text is {len(text):,} characters long; the limit is "
                            f"{settings.DOCUMENT_MAX_CHARS:,}.", errors={"text": "Too long."})
    return text


@router.post("/seo/analyse", response={200: dict[str, Any], 400: s.ErrorOut, 404: s.ErrorOut,
                                       413: s.ErrorOut},
             summary="Keyword coverage, density, placement, meta lengths and readability of a text")
def seo_analyse(request: HttpRequest, payload: s.SeoAnalyseIn) -> dict[str, Any]:
    refuse_unstorable(payload.model_dump())
    text = _seo_text(payload.text)
    raw: str | list[str] = payload.keywords
    if payload.keyword_list is not None:  # another workspace's list is 404, like a missing one
        raw = list(keyword_list_get(workspace_id=member(request).workspace_id,
                                    list_id=payload.keyword_list).keywords)
    try:
        keywords = parse_keywords(raw)
    except KeywordError as exc:
        raise ApiError(400, str(exc), errors={"keywords": str(exc)}) from None
    if payload.kind not in KINDS:
        raise ApiError(400, f"kind must be one of: {', '.join(KINDS)}.",
                       errors={"kind": "Unknown kind."})
    report = analyse(text, keywords, title=payload.title, kind=payload.kind)
    return report.as_dict()


@router.post("/seo/suggest", response={200: s.SeoSuggestOut, 400: s.ErrorOut, 413: s.ErrorOut},
             summary="Keyphrase suggestions for a text and its brief (YAKE, in the request)")
def seo_suggest(request: HttpRequest, payload: s.SeoSuggestIn) -> dict[str, Any]:
    refuse_unstorable(payload.model_dump())
    text = _seo_text(payload.text)
    # KeyBERT would load torch into the web process; the web page gets its suggestions from a
    # worker, the API answers at once with YAKE's.
    found = suggest_keywords(text, payload.brief, payload.n, keybert=False)
    return {"suggestions": [item.as_dict() for item in found], "method": "yake"}
