from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from copywriter.core.diff import bounded_opcodes
from copywriter.documents.models import Document
from copywriter.generation.models import Status
from copywriter.seo.models import DocumentKeywords, Enrichment, KeywordList
from copywriter.seo.ranking import echoes_instructions, rewrite_rank
from copywriter.seo.report import SeoReport, analyse

# Templates whose whole output is one meta tag: the panel checks its length as such.
META_TEMPLATES = {"seo-meta-title": "meta_title", "seo-meta-description": "meta_description"}


def kind_for_template(slug: str) -> str:
    return META_TEMPLATES.get(slug, "auto")


def keyword_lists(*, workspace_id: int) -> QuerySet[KeywordList]:
    return KeywordList.objects.filter(workspace_id=workspace_id).order_by("name")


def keyword_list_get(*, workspace_id: int, list_id: int) -> KeywordList:
    return get_object_or_404(KeywordList, workspace_id=workspace_id, pk=list_id)


def document_keywords(*, document: Document) -> list[str]:
    row = DocumentKeywords.objects.filter(document=document).first()
    return list(row.keywords) if row else []


def enrichment_get(*, workspace_id: int, enrichment_id: int) -> Enrichment:
    return get_object_or_404(
        Enrichment.objects.select_related("generation", "document", "source_generation__template",
                                          "result_document"),
        workspace_id=workspace_id, pk=enrichment_id)


def open_enrichments(*, workspace_id: int, document: Document | None = None,
                     generation_id: int | None = None,
                     index: int | None = None) -> QuerySet[Enrichment]:
    qs = Enrichment.objects.filter(workspace_id=workspace_id, status="open")
    if document is not None:
        qs = qs.filter(document=document)
    else:
        qs = qs.filter(source_generation_id=generation_id, source_index=index)
    return qs.select_related("generation").order_by("-created_at")


# --- word diff --------------------------------------------------------------------------------

@dataclass(frozen=True)
class DiffSpan:
    op: str  # "same", "add", "del", "gap" (a space shown between a removed and an added word)
    text: str


TOKEN_RE = re.compile(r"\s+|[^\s]+")


def word_diff(old: str, new: str) -> list[DiffSpan]:
    """A word-level diff (whitespace kept) for short copy; templates escape the text."""
    a, b = TOKEN_RE.findall(old), TOKEN_RE.findall(new)
    out: list[DiffSpan] = []
    # Past the budget the changed middle is one removed and one added span (still correct).
    for tag, i1, i2, j1, j2 in bounded_opcodes(a, b)[0]:
        if tag == "equal":
            out.append(DiffSpan("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(DiffSpan("del", "".join(a[i1:i2])))
            if j2 > j1 and not (a[i2 - 1].isspace() or b[j1].isspace()):
                out.append(DiffSpan("gap", " "))  # "cheap affordable", not "cheapaffordable"
        if j2 > j1:
            out.append(DiffSpan("add", "".join(b[j1:j2])))
    return out


# --- an enrichment's result -------------------------------------------------------------------

@dataclass
class Candidate:
    index: int
    text: str
    report: SeoReport
    originality: dict[str, Any] | None

    @property
    def echoed(self) -> bool:
        return echoes_instructions(self.text)


@dataclass
class EnrichmentView:
    before: SeoReport
    candidates: list[Candidate]
    best: int | None  # index of the rewrite the panel recommends

    def candidate(self, index: int | None) -> Candidate | None:
        wanted = self.best if index is None else index
        return next((c for c in self.candidates if c.index == wanted), None)


def enrichment_view(*, enrichment: Enrichment) -> EnrichmentView:
    """The source analysed, and each finished rewrite re-analysed for the same keywords. The
    recommended rewrite is chosen by ``ranking.rewrite_rank``: no copied instructions, the most
    keywords, not stuffed, the most keywords within bounds, closest to the original length."""
    before = analyse(enrichment.source_text, enrichment.keywords,
                     title=enrichment.title, kind=enrichment.kind)
    candidates: list[Candidate] = []
    if enrichment.generation.status == Status.DONE:
        for v in enrichment.generation.results.filter(finished=True).order_by("index"):
            if v.text.strip():
                candidates.append(Candidate(
                    v.index, v.text, analyse(v.text, enrichment.keywords,
                                             title=enrichment.title, kind=enrichment.kind),
                    v.originality))
    best = (min(candidates, key=lambda c: rewrite_rank(c.report, before.words, c.echoed)).index
            if candidates else None)
    return EnrichmentView(before, candidates, best)
