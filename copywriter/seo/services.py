"""SEO writes: keyword lists, a document's keywords, enrichment requests and their decisions.

Safe in the web process (no torch): suggestions from KeyBERT are computed by the ``seo.suggest``
task in a worker; enrichment is a normal generation job, run by the generation workers.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from copywriter.audit.services import record
from copywriter.catalog.models import Template
from copywriter.catalog.schema import load_file
from copywriter.catalog.services import _upsert
from copywriter.core.errors import UserError
from copywriter.documents.models import Document, VersionKind
from copywriter.documents.services import document_create, document_save
from copywriter.generation.models import Generation, Status, Variant
from copywriter.generation.services import GenerationError, generation_cancel, generation_create
from copywriter.generation.tones import NEUTRAL
from copywriter.seo import suggestions
from copywriter.seo.keywords import KeywordError, parse_keywords
from copywriter.seo.models import DocumentKeywords, Enrichment, EnrichmentStatus, KeywordList
from copywriter.seo.report import analyse
from copywriter.workspaces.decorators import require_writer
from copywriter.workspaces.models import Membership

log = logging.getLogger(__name__)

ENRICH_TEMPLATE = "seo-keyword-enrich"
ENRICH_VARIANTS = 2  # the panel shows the better of two rewrites (see selectors.enrichment_view)
ENRICH_MAX_CHARS = 4000  # the enrichment template's copy field
SUGGEST_TIMEOUT = 3600
LIST_NAME_MAX = 80


class SeoError(UserError):
    pass


def _check_write(membership: Membership, what: str) -> None:
    require_writer(membership, SeoError(f"Viewers cannot {what}; ask an owner for the editor role.",
                                        status=403))


def clean_keywords(raw: str | list[str], *, required: bool = True) -> list[str]:
    try:
        keywords = parse_keywords(raw)
    except KeywordError as exc:
        raise SeoError(str(exc)) from None
    if required and not keywords:
        raise SeoError("Type at least one keyword (separate several with commas).")
    return keywords


# --- keywords ---------------------------------------------------------------------------------

def document_keywords_save(*, membership: Membership, document: Document,
                           keywords: list[str]) -> DocumentKeywords:
    _check_write(membership, "change a document's keywords")
    if document.workspace_id != membership.workspace_id:
        raise Document.DoesNotExist
    row, _ = DocumentKeywords.objects.update_or_create(
        document=document, defaults={"keywords": keywords, "updated_by": membership.user,
                                     "updated_at": timezone.now()})
    return row


def keyword_list_save(*, membership: Membership, name: str, keywords: list[str]) -> KeywordList:
    """Create the workspace list ``name``, or replace the keywords of the list of that name."""
    _check_write(membership, "save keyword lists")
    name = " ".join((name or "").split())
    if not name:
        raise SeoError("Give the keyword list a name.")
    if len(name) > LIST_NAME_MAX:
        raise SeoError(f"The name is {len(name)} characters long; the limit is {LIST_NAME_MAX}.")
    if not keywords:
        raise SeoError("A keyword list needs at least one keyword.")
    now = timezone.now()
    row, created = KeywordList.objects.get_or_create(
        workspace_id=membership.workspace_id, name=name,
        defaults={"keywords": keywords, "created_by": membership.user, "created_at": now,
                  "updated_at": now})
    if not created:
        row.keywords, row.updated_at = keywords, now
        row.save(update_fields=["keywords", "updated_at"])
    return row


def keyword_list_delete(*, membership: Membership, keyword_list: KeywordList) -> None:
    _check_write(membership, "delete keyword lists")
    if keyword_list.workspace_id != membership.workspace_id:
        raise KeywordList.DoesNotExist
    with transaction.atomic():
        record(workspace=membership.workspace_id, actor=membership.user,
               action="keyword_list.deleted", target=keyword_list,
               summary=f"deleted the keyword list {keyword_list.name!r}",
               details={"keywords": len(keyword_list.keywords or [])})
        keyword_list.delete()


# --- suggestions ------------------------------------------------------------------------------

def _suggest_key(workspace_id: int, text: str, brief: str) -> str:
    """Per workspace: a key shared across workspaces would let another tenant confirm an exact
    guess of this workspace's text (its KeyBERT answer would come back at once, complete)."""
    digest = hashlib.sha256(f"{brief}\x00{text}".encode()).hexdigest()[:40]
    return f"{workspace_id}:{digest}"


@dataclass
class SuggestAnswer:
    suggestions: list[dict[str, Any]]
    complete: bool  # KeyBERT's answer is in; otherwise these are YAKE's alone
    key: str


def suggestions_request(*, workspace_id: int, text: str, brief: str = "",
                        n: int = 8) -> SuggestAnswer:
    """Suggestions now: the merged KeyBERT + YAKE list when a worker has computed it for this
    text in this workspace, else YAKE's (instant, no torch) while a ``seo.suggest`` task
    computes the merge."""
    key = _suggest_key(workspace_id, text, brief)
    done = cache.get(f"seo-suggest-out:{key}")
    if done is not None:
        return SuggestAnswer(done, True, key)
    quick = [s.as_dict() for s in suggestions.suggest_keywords(text, brief, n, keybert=False)]
    if cache.add(f"seo-suggest-pending:{key}", 1, timeout=300):
        cache.set(f"seo-suggest-in:{key}", {"text": text, "brief": brief, "n": n},
                  timeout=SUGGEST_TIMEOUT)
        _enqueue_suggest(key)
    return SuggestAnswer(quick, False, key)


def _enqueue_suggest(key: str) -> None:
    """A broker that is down must not fail the request: the panel keeps YAKE's list."""
    from copywriter.seo import tasks

    try:
        tasks.suggest.apply_async(args=[key], retry=True, retry_policy={
            "max_retries": 2, "interval_start": 0, "interval_step": 0.2})
    except Exception:
        log.warning("could not enqueue seo.suggest", exc_info=True)


def suggestions_compute(*, key: str) -> str:
    """Worker side of ``suggestions_request`` (loads the embedding model)."""
    if cache.get(f"seo-suggest-out:{key}") is not None:
        return "done"
    inputs = cache.get(f"seo-suggest-in:{key}")
    if inputs is None:
        return "expired"
    found = suggestions.suggest_keywords(inputs["text"], inputs["brief"], int(inputs["n"]))
    cache.set(f"seo-suggest-out:{key}", [s.as_dict() for s in found], timeout=SUGGEST_TIMEOUT)
    return "done"


# --- enrichment -------------------------------------------------------------------------------

def enrich_template() -> Template:
    """The built-in enrichment template (templates_lib/seo/seo-keyword-enrich.yaml), loaded from
    its file when the library has not been synced into this database yet."""
    tpl = Template.objects.filter(slug=ENRICH_TEMPLATE, workspace__isnull=True,
                                  current__isnull=False).select_related("current").first()
    if tpl is not None:
        return tpl
    path = settings.TEMPLATES_LIB_DIR / "seo" / f"{ENRICH_TEMPLATE}.yaml"
    if not path.exists():
        raise SeoError("The keyword enrichment template is missing from templates_lib; run "
                       "`manage.py sync_templates` after restoring it.", status=503)
    spec = load_file(path)
    with transaction.atomic():
        tpl, _ = Template.objects.get_or_create(slug=spec.id, workspace=None)
        _upsert(tpl, spec)
    return tpl


def document_source_tone(*, document: Document) -> str:
    """The tone a document's text was written in: stored with its keywords, else the tone of the
    generation whose variant became its first version, else neutral."""
    stored = DocumentKeywords.objects.filter(document=document).values_list("tone", flat=True)
    if stored and stored[0]:
        return stored[0]
    first = document.versions.filter(number=1, kind=VersionKind.GENERATION).first()
    if first is not None and first.body:
        variant = (Variant.objects.filter(generation__workspace_id=document.workspace_id,
                                          text=first.body, finished=True)
                   .select_related("generation").order_by("-generation__created_at").first())
        if variant is not None:
            return variant.generation.tone
    return NEUTRAL


def _length_for(words: int) -> str:
    # ~1.6 tokens a word, plus room for the keywords being added.
    return "short" if words <= 55 else "medium" if words <= 135 else "long"


def _start(*, membership: Membership, text: str, keywords: list[str], tone: str, title: str,
           kind: str, document: Document | None = None, base_number: int | None = None,
           generation: Generation | None = None, index: int | None = None) -> Enrichment:
    _check_write(membership, "enrich copy")
    if not text.strip():
        raise SeoError("There is no text to enrich yet.")
    if len(text) > ENRICH_MAX_CHARS:
        raise SeoError(f"Enrichment rewrites up to {ENRICH_MAX_CHARS:,} characters at a time and "
                       f"this text has {len(text):,}. Enrich a section at a time: copy it into a "
                       "new document, enrich it there, and paste the result back.", status=413)
    report = analyse(text, keywords, title=title, kind=kind)
    missing = [k.keyword for k in report.keywords if not k.present]
    if not missing:
        raise SeoError("Every keyword already appears in the copy; there is nothing to weave in.")
    fields = {"copy": text, "keywords": ", ".join(missing)}
    try:
        with transaction.atomic():
            gen = generation_create(membership=membership, template=enrich_template(),
                                    fields=fields, tone=tone, variants=ENRICH_VARIANTS,
                                    length=_length_for(report.words))
            return Enrichment.objects.create(
                workspace_id=membership.workspace_id, created_by=membership.user,
                document=document, base_number=base_number, source_generation=generation,
                source_index=index, source_text=text, title=title, kind=kind, keywords=keywords,
                missing=missing, tone=tone, generation=gen)
    except GenerationError as exc:
        message = exc.message
        if exc.field_errors and "__all__" not in exc.field_errors:
            message = " ".join([message, *exc.field_errors.values()])
        raise SeoError(message, status=exc.status, permanent=exc.permanent) from None


def enrichment_start_document(*, membership: Membership, document: Document,
                              keywords: list[str], tone: str | None = None) -> Enrichment:
    """Enrich the document's head version in ``tone`` (default: the tone it was written in)."""
    if document.workspace_id != membership.workspace_id or document.deleted_at is not None:
        raise Document.DoesNotExist
    return _start(membership=membership, text=document.body, keywords=keywords,
                  tone=tone or document_source_tone(document=document), title=document.title,
                  kind="auto", document=document, base_number=document.head_number)


def enrichment_start_variant(*, membership: Membership, variant: Variant,
                             keywords: list[str]) -> Enrichment:
    """Enrich a finished variant in the tone of the generation that wrote it."""
    gen = variant.generation
    if gen.workspace_id != membership.workspace_id:
        raise Variant.DoesNotExist
    if not variant.finished:
        raise SeoError("This variant is still being written; enrich it once it is done.")
    from copywriter.seo.selectors import kind_for_template

    return _start(membership=membership, text=variant.text, keywords=keywords, tone=gen.tone,
                  title="", kind=kind_for_template(gen.template.slug), generation=gen,
                  index=variant.index)


@dataclass(frozen=True)
class AcceptResult:
    document: Document
    number: int  # the new head, or the conflict copy's number
    conflict: bool


def _check_open(membership: Membership, enrichment: Enrichment, action: str) -> None:
    """A decision on a rewrite: by someone who may write, in its workspace, not yet decided."""
    _check_write(membership, action)
    if enrichment.workspace_id != membership.workspace_id:
        raise Enrichment.DoesNotExist
    if enrichment.status != EnrichmentStatus.OPEN:
        raise SeoError(f"This rewrite was already decided ({enrichment.get_status_display()}).",
                       status=409)


def enrichment_accept(*, membership: Membership, enrichment: Enrichment,
                      index: int) -> AcceptResult:
    """Keep rewrite ``index``. On a document: a new version based on the version that was
    enriched; if someone saved since, the rewrite is kept as a conflict copy instead and the
    head is left alone. On a variant: a new document holding the rewrite (the variant itself is
    never changed: it is what the model wrote)."""
    _check_open(membership, enrichment, "accept a rewrite")
    if enrichment.generation.status != Status.DONE:
        raise SeoError("The rewrite is not finished yet.", status=409)
    variant = enrichment.generation.results.filter(index=index, finished=True).first()
    if variant is None or not variant.text.strip():
        raise SeoError("Choose one of the finished rewrites.")
    text = variant.text.strip()  # the model's leading/trailing whitespace is not copy
    with transaction.atomic():
        if enrichment.document is not None:
            assert enrichment.base_number is not None
            result = document_save(membership=membership, document_id=enrichment.document.pk,
                                   title=enrichment.title or enrichment.document.title,
                                   body=text, base_number=enrichment.base_number,
                                   kind=VersionKind.GENERATION)
            doc, number, conflict = result.document, result.version.number, result.conflict
            if not conflict:
                _remember(doc, enrichment, membership)
        else:
            gen = enrichment.source_generation
            title = (f"{gen.template.title} with keywords "
                     f"({timezone.localtime(timezone.now()):%Y-%m-%d %H:%M})" if gen
                     else "Enriched copy")
            doc = document_create(membership=membership, title=title, body=text,
                                  kind=VersionKind.GENERATION)
            number, conflict = doc.head_number, False
            _remember(doc, enrichment, membership)
        enrichment.status = EnrichmentStatus.CONFLICT if conflict else EnrichmentStatus.ACCEPTED
        enrichment.chosen_index, enrichment.result_document = index, doc
        enrichment.result_number = number
        enrichment.decided_by, enrichment.decided_at = membership.user, timezone.now()
        enrichment.save(update_fields=["status", "chosen_index", "result_document",
                                       "result_number", "decided_by", "decided_at"])
    return AcceptResult(doc, number, conflict)


def _remember(doc: Document, enrichment: Enrichment, membership: Membership) -> None:
    """The document keeps the keywords it was enriched for and the tone it is written in."""
    DocumentKeywords.objects.update_or_create(
        document=doc, defaults={"keywords": enrichment.keywords, "tone": enrichment.tone,
                                "updated_by": membership.user, "updated_at": timezone.now()})


def enrichment_reject(*, membership: Membership, enrichment: Enrichment) -> None:
    _check_open(membership, enrichment, "reject a rewrite")
    if enrichment.generation.is_active:
        generation_cancel(membership=membership, generation=enrichment.generation)
    Enrichment.objects.filter(pk=enrichment.pk).update(
        status=EnrichmentStatus.REJECTED, decided_by=membership.user, decided_at=timezone.now())
