"""The JSON API, mounted at /api/v1/ (schema at /api/v1/openapi.json, docs at /api/v1/docs/).

Every endpoint acts for one workspace: the token's. Ids of another workspace's objects answer
404, exactly like ids that do not exist. Writes need a token whose effective role is editor
(see ``ApiToken``). Errors are JSON everywhere: ``{"detail": ..., "errors": {...}}``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import NinjaAPI, Query, Router, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from copywriter.api import schemas as s
from copywriter.api import services as token_services
from copywriter.catalog import selectors as catalog_selectors
from copywriter.catalog.models import Template
from copywriter.core import unavailable
from copywriter.core.errors import UserError
from copywriter.documents import selectors as document_selectors
from copywriter.documents import services as document_services
from copywriter.documents.models import Document, DocumentVersion
from copywriter.facts import selectors as facts_selectors
from copywriter.facts import services as facts_services
from copywriter.facts.models import FactSheet, FactSheetVersion
from copywriter.generation import selectors as generation_selectors
from copywriter.generation import services as generation_services
from copywriter.generation.models import Generation
from copywriter.generation.tones import LENGTHS
from copywriter.originality import services as originality_services
from copywriter.originality.models import OriginalityCheck
from copywriter.workspaces.models import Membership

log = logging.getLogger(__name__)


class ApiError(UserError):
    """A refusal of the API's own: ``headers`` go on the answer, ``extra`` into its JSON."""

    def __init__(self, status: int, detail: str, *, errors: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None,
                 permanent: bool = True, retry_after: int | None = None):
        super().__init__(detail, status=status, permanent=permanent, field_errors=errors,
                         retry_after=retry_after)
        self.headers = headers or {}
        self.extra = extra or {}


class TokenAuth(HttpBearer):
    """``Authorization: Bearer cw_...``. Only tokens: a session cookie is never read here, so
    the API needs no CSRF protection and a logged-in browser cannot be made to call it."""

    def authenticate(self, request: HttpRequest, token: str) -> Membership:
        try:
            api_token, membership = token_services.token_authenticate(secret=token)
        except token_services.TokenRefused as exc:
            raise ApiError(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
        wait = token_services.request_allowed(token=api_token,
                                              per_minute=settings.API_REQUESTS_PER_MINUTE)
        if wait:
            raise ApiError(429, f"This token made {settings.API_REQUESTS_PER_MINUTE} requests "
                                "this minute; wait and try again.",
                           permanent=False, retry_after=wait)
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > settings.API_MAX_BODY_BYTES:
            raise ApiError(413, f"The request body is {int(length):,} bytes; the limit is "
                                f"{settings.API_MAX_BODY_BYTES:,}.")
        request.api_token = api_token  # type: ignore[attr-defined]
        return membership


api = NinjaAPI(
    title="copywriter API", version="1", urls_namespace="v1", auth=TokenAuth(),
    docs_url=None,  # ninja's docs page loads Swagger UI from a CDN; ours is served by views.docs
    description="Templates, generations, documents and originality checks of one workspace, "
                "the token's. Send `Authorization: Bearer cw_...`; make tokens in the "
                "workspace's Settings > API tokens.",
)


def _error(request: HttpRequest, status: int, detail: str, errors: dict[str, str] | None = None,
           headers: dict[str, str] | None = None, **extra: Any) -> HttpResponse:
    response = api.create_response(request, {"detail": detail, "errors": errors or {}, **extra},
                                   status=status)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


@api.exception_handler(UserError)
def _user_error(request: HttpRequest, exc: UserError) -> HttpResponse:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else {}
    extra: dict[str, Any] = {}
    if isinstance(exc, ApiError):
        headers |= exc.headers
        extra = exc.extra
    return _error(request, exc.status, exc.message, exc.field_errors, headers, **extra)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "Send an API token: Authorization: Bearer cw_... (make one in the "
                                "workspace's Settings > API tokens).",
                  headers={"WWW-Authenticate": "Bearer"})


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, str] = {}
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", ())]
        # ("body", "payload", "fields", "x") -> "fields.x"; ("query", "limit") -> "limit"
        name = ".".join(loc[2:] if loc[:1] == ["body"] else loc[1:]) or "__all__"
        errors.setdefault(name, str(err.get("msg", "Invalid value.")))
    return _error(request, 400, "The request is not valid; see errors.", errors)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "Not found in this token's workspace.")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, str(exc) or "This token's role does not allow that.")


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, f"The request body is over the limit of "
                                f"{settings.API_MAX_BODY_BYTES:,} bytes.")


@api.exception_handler(ValidationError)
def _django_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, 400, " ".join(exc.messages))


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    if unavailable.is_unavailable(exc):
        log.warning("API %s %s: a backing service is out of reach: %r", request.method, request.path, exc)
        return unavailable.unavailable_response(request)
    log.exception("API error on %s %s", request.method, request.path)
    return _error(request, 500, "Something went wrong on our side; it was logged. Nothing you sent "
                                "was stored unless a later read shows it.")


def _member(request: HttpRequest) -> Membership:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _writer(request: HttpRequest) -> Membership:
    membership = _member(request)
    if not membership.can_write:
        raise ApiError(403, "This token is read-only (viewer role); writes need an editor token.")
    return membership


def _refuse_unstorable(value: Any, where: str = "") -> None:
    """NUL characters and unpaired surrogates cannot be stored as text: say so, as a 400."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ApiError(400, "Text cannot contain NUL characters.",
                           errors={where or "__all__": "Contains a NUL (\\u0000) character."})
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(400, "Text must be valid Unicode.", errors={
                where or "__all__": "Contains an unpaired surrogate."}) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_unstorable(key, where)
            _refuse_unstorable(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _refuse_unstorable(item, f"{where}.{i}")


# --- templates ---------------------------------------------------------------------------------

templates = Router(tags=["templates"])


def _template_out(t: Template) -> dict[str, Any]:
    return {"id": t.pk, "slug": t.slug, "title": t.title, "description": t.description,
            "category": t.category, "builtin": t.is_builtin}


@templates.get("/templates", response={200: s.TemplatePage, 400: s.ErrorOut},
               summary="Search the templates this workspace can use")
def template_list(request: HttpRequest, q: str = Query("", max_length=100),
                  category: str = Query("", max_length=40), limit: int = Query(20, ge=1, le=100),
                  offset: int = Query(0, ge=0, le=100_000)) -> dict[str, Any]:
    _refuse_unstorable({"q": q, "category": category})
    qs = catalog_selectors.template_search(workspace_id=_member(request).workspace_id, q=q,
                                           category=category)
    return {"count": qs.count(), "limit": limit, "offset": offset,
            "items": [_template_out(t) for t in qs[offset:offset + limit]]}


def _template_by_slug(workspace_id: int, slug: str) -> Template:
    """The workspace's own template with this slug, else the built-in one; 404 otherwise."""
    qs = catalog_selectors.templates_visible(workspace_id=workspace_id).filter(
        slug=slug[:80], current__isnull=False).select_related("current")
    template = (qs.filter(workspace_id=workspace_id).first()
                or qs.filter(workspace__isnull=True).first())
    if template is None:
        raise Http404
    return template


@templates.get("/templates/{slug}", response={200: s.TemplateDetailOut, 404: s.ErrorOut},
               summary="A template: its fields, limits, tones and lengths")
def template_detail(request: HttpRequest, slug: str) -> dict[str, Any]:
    _refuse_unstorable(slug)
    ws = _member(request).workspace_id
    t = _template_by_slug(ws, slug)
    spec = t.spec()
    return {**_template_out(t), "tags": list(spec.tags), "variants": spec.variants,
            "min_words": spec.min_words, "max_words": spec.max_words,
            "fields": [{"name": f.name, "label": f.label, "type": f.type, "required": f.required,
                        "help": f.help, "max_length": f.max_length, "choices": list(f.choices),
                        "min": f.min, "max": f.max} for f in spec.fields],
            "tones": [key for key, _ in generation_services.tone_choices(workspace_id=ws)],
            "lengths": list(LENGTHS)}


# --- generations -------------------------------------------------------------------------------

generations = Router(tags=["generations"])


def _generation_out(gen: Generation) -> dict[str, Any]:
    return {"id": gen.pk, "status": gen.status, "template": gen.template.slug, "tone": gen.tone,
            "fields": gen.fields, "variants_requested": gen.variants, "error": gen.error,
            "error_permanent": gen.error_permanent, "retry_of": gen.retry_of_id,
            "created_at": gen.created_at, "finished_at": gen.finished_at,
            "variants": [{"index": v.index, "text": v.text, "finished": v.finished,
                          "tokens": v.tokens, "originality": v.originality, "claims": v.claims,
                          "slots": v.slots, "choice": v.choice}
                         for v in gen.results.all()],
            "facts": gen.facts or {},
            "url": reverse("generation:detail", args=[gen.workspace_id, gen.pk])}


@generations.post("/generations", response={202: s.GenerationOut, 400: s.ErrorOut,
                                            403: s.ErrorOut, 404: s.ErrorOut, 413: s.ErrorOut,
                                            429: s.ErrorOut},
                  summary="Start a generation (queued; poll GET /generations/{id})")
def generation_create(request: HttpRequest, payload: s.GenerationIn) -> Status[dict[str, Any]]:
    membership = _writer(request)
    _refuse_unstorable(payload.model_dump())
    template = _template_by_slug(membership.workspace_id, payload.template)
    gen = generation_services.generation_create(
        membership=membership, template=template, fields=payload.fields, tone=payload.tone,
        variants=payload.variants, length=payload.length, fact_sheets=payload.fact_sheets)
    return Status(202, _generation_out(gen))


@generations.get("/generations/{generation_id}",
                 response={200: s.GenerationOut, 404: s.ErrorOut},
                 summary="A generation's status, variants and originality reports")
def generation_detail(request: HttpRequest, generation_id: int) -> dict[str, Any]:
    gen = generation_selectors.generation_get(workspace_id=_member(request).workspace_id,
                                              generation_id=generation_id)
    return _generation_out(gen)


@generations.post("/generations/{generation_id}/retry",
                  response={202: s.GenerationOut, 403: s.ErrorOut, 404: s.ErrorOut,
                            429: s.ErrorOut},
                  summary="Run a generation again with the same inputs, as a new generation")
def generation_retry(request: HttpRequest, generation_id: int) -> Status[dict[str, Any]]:
    membership = _writer(request)
    gen = generation_selectors.generation_get(workspace_id=membership.workspace_id,
                                              generation_id=generation_id)
    new = generation_services.generation_retry(membership=membership, generation=gen)
    return Status(202, _generation_out(new))


# --- documents ---------------------------------------------------------------------------------

documents = Router(tags=["documents"])


def _document_out(doc: Document) -> dict[str, Any]:
    return {"id": doc.pk, "title": doc.title, "head_version": doc.head_number,
            "created_at": doc.created_at, "updated_at": doc.updated_at}


def _version_out(v: DocumentVersion) -> dict[str, Any]:
    return {"number": v.number, "kind": v.kind, "based_on": v.based_on,
            "author": v.author.email if v.author else None, "created_at": v.created_at}


def _document_detail(doc: Document) -> dict[str, Any]:
    versions = DocumentVersion.objects.filter(document=doc).select_related("author")
    return {**_document_out(doc), "body": doc.body,
            "versions": [_version_out(v) for v in versions]}


@documents.get("/documents", response={200: s.DocumentPage, 400: s.ErrorOut},
               summary="List or search (title and text) the workspace's documents")
def document_list(request: HttpRequest, q: str = Query("", max_length=200),
                  limit: int = Query(20, ge=1, le=100),
                  offset: int = Query(0, ge=0, le=100_000)) -> dict[str, Any]:
    _refuse_unstorable(q, "q")
    qs = document_selectors.documents_for_workspace(workspace_id=_member(request).workspace_id,
                                                    q=q)
    return {"count": qs.count(), "limit": limit, "offset": offset,
            "items": [_document_out(d) for d in qs[offset:offset + limit]]}


@documents.post("/documents", response={201: s.DocumentDetailOut, 400: s.ErrorOut,
                                        403: s.ErrorOut, 413: s.ErrorOut},
                summary="Create a document (its version 1)")
def document_create(request: HttpRequest, payload: s.DocumentIn) -> Status[dict[str, Any]]:
    membership = _writer(request)
    _refuse_unstorable(payload.model_dump())
    doc = document_services.document_create(membership=membership, title=payload.title,
                                            body=payload.body)
    return Status(201, _document_detail(doc))


@documents.get("/documents/{document_id}", response={200: s.DocumentDetailOut, 404: s.ErrorOut},
               summary="A document: its current text and its version list")
def document_detail(request: HttpRequest, document_id: int) -> dict[str, Any]:
    doc = document_selectors.document_get(workspace_id=_member(request).workspace_id,
                                          document_id=document_id)
    return _document_detail(doc)


@documents.get("/documents/{document_id}/versions/{number}",
               response={200: s.VersionDetailOut, 404: s.ErrorOut},
               summary="One version of a document, conflict copies included")
def version_detail(request: HttpRequest, document_id: int, number: int) -> dict[str, Any]:
    doc = document_selectors.document_get(workspace_id=_member(request).workspace_id,
                                          document_id=document_id)
    v = document_selectors.version_get(document=doc, number=number)
    return {**_version_out(v), "title": v.title, "body": v.body}


@documents.post("/documents/{document_id}/versions",
                response={201: s.SavedOut, 200: s.SavedOut, 400: s.ErrorOut, 403: s.ErrorOut,
                          404: s.ErrorOut, 409: s.ConflictOut, 413: s.ErrorOut},
                summary="Save a new version; 409 with the kept conflict copy when base_version "
                        "is not the current version")
def version_create(request: HttpRequest, document_id: int,
                   payload: s.VersionIn) -> Status[dict[str, Any]]:
    membership = _writer(request)
    _refuse_unstorable(payload.model_dump())
    doc = document_selectors.document_get(workspace_id=membership.workspace_id,
                                          document_id=document_id)
    try:
        result = document_services.document_save(
            membership=membership, document_id=doc.pk,
            title=doc.title if payload.title is None else payload.title, body=payload.body,
            base_number=payload.base_version)
    except Document.DoesNotExist:  # trashed between the read and the save
        raise Http404 from None
    if result.conflict:
        raise ApiError(409, f"Version {payload.base_version} is not the current version "
                            f"({result.document.head_number}). Your text was kept as version "
                            f"{result.version.number} (a conflict copy); merge and save again "
                            f"with base_version {result.document.head_number}.",
                       extra={"conflict_version": result.version.number,
                              "head_version": result.document.head_number})
    return Status(201 if result.changed else 200, {
        "document": doc.pk, "version": result.version.number, "changed": result.changed})


# --- fact sheets -------------------------------------------------------------------------------

facts = Router(tags=["facts"])


def _sheet_out(sheet: FactSheet) -> dict[str, Any]:
    return {"id": sheet.pk, "name": sheet.name, "kind": sheet.kind, "version": sheet.head_number,
            "archived": sheet.archived, "created_at": sheet.created_at,
            "updated_at": sheet.updated_at}


def _fact_version_out(v: FactSheetVersion) -> dict[str, Any]:
    return {"number": v.number, "based_on": v.based_on,
            "author": v.author.email if v.author else None, "created_at": v.created_at}


def _sheet_detail(sheet: FactSheet) -> dict[str, Any]:
    head = facts_selectors.head_version(sheet=sheet)
    return {**_sheet_out(sheet), "facts": head.facts, "approved": head.approved,
            "banned": head.banned,
            "versions": [_fact_version_out(v) for v in facts_selectors.versions_of(sheet=sheet)]}


@facts.get("/facts", response={200: s.FactSheetPage, 400: s.ErrorOut},
           summary="List the workspace's fact sheets (live ones; archived=true for the rest)")
def fact_sheet_list(request: HttpRequest, q: str = Query("", max_length=120),
                    archived: bool = False, limit: int = Query(20, ge=1, le=100),
                    offset: int = Query(0, ge=0, le=100_000)) -> dict[str, Any]:
    _refuse_unstorable(q, "q")
    qs = facts_selectors.sheets_for_workspace(workspace_id=_member(request).workspace_id,
                                              archived=archived, q=q)
    return {"count": qs.count(), "limit": limit, "offset": offset,
            "items": [_sheet_out(sheet) for sheet in qs[offset:offset + limit]]}


@facts.post("/facts", response={201: s.FactSheetDetailOut, 400: s.ErrorOut, 403: s.ErrorOut},
            summary="Create a fact sheet (its version 1)")
def fact_sheet_create(request: HttpRequest, payload: s.FactSheetIn) -> Status[dict[str, Any]]:
    membership = _writer(request)
    _refuse_unstorable(payload.model_dump())
    sheet = facts_services.fact_sheet_create(membership=membership, **payload.model_dump())
    return Status(201, _sheet_detail(sheet))


@facts.get("/facts/{sheet_id}", response={200: s.FactSheetDetailOut, 404: s.ErrorOut},
           summary="A fact sheet: its latest version's lines and its version list")
def fact_sheet_detail(request: HttpRequest, sheet_id: int) -> dict[str, Any]:
    sheet = facts_selectors.sheet_get(workspace_id=_member(request).workspace_id,
                                      sheet_id=sheet_id)
    return _sheet_detail(sheet)


@facts.get("/facts/{sheet_id}/versions/{number}",
           response={200: s.FactVersionDetailOut, 404: s.ErrorOut},
           summary="One version of a fact sheet")
def fact_version_detail(request: HttpRequest, sheet_id: int, number: int) -> dict[str, Any]:
    sheet = facts_selectors.sheet_get(workspace_id=_member(request).workspace_id,
                                      sheet_id=sheet_id)
    v = facts_selectors.version_get(sheet=sheet, number=number)
    return {**_fact_version_out(v), "name": v.name, "kind": v.kind, "facts": v.facts,
            "approved": v.approved, "banned": v.banned}


@facts.post("/facts/{sheet_id}/versions",
            response={201: s.FactSheetDetailOut, 200: s.FactSheetDetailOut, 400: s.ErrorOut,
                      403: s.ErrorOut, 404: s.ErrorOut, 409: s.FactConflictOut},
            summary="Save a new version; 409 (nothing stored) when base_version is not the "
                    "latest version")
def fact_version_create(request: HttpRequest, sheet_id: int,
                        payload: s.FactVersionIn) -> Status[dict[str, Any]]:
    membership = _writer(request)
    _refuse_unstorable(payload.model_dump())
    sheet = facts_selectors.sheet_get(workspace_id=membership.workspace_id, sheet_id=sheet_id)
    values = payload.model_dump()
    base = values.pop("base_version")
    try:
        version = facts_services.fact_sheet_save(membership=membership, sheet_id=sheet.pk,
                                                 base_number=base, **values)
    except facts_services.StaleEdit as exc:
        raise ApiError(409, exc.message, extra={"head_version": exc.head_number}) from None
    sheet.refresh_from_db()
    return Status(201 if version.number != base else 200, _sheet_detail(sheet))


# --- originality -------------------------------------------------------------------------------

originality = Router(tags=["originality"])


def _check_out(check: OriginalityCheck) -> dict[str, Any]:
    return {"id": check.pk, "status": check.status, "document": check.document_id,
            "document_version": check.document_version, "report": check.report,
            "error": check.error, "created_at": check.created_at, "finished_at": check.finished_at}


@originality.post("/documents/{document_id}/originality",
                  response={202: s.CheckOut, 404: s.ErrorOut, 429: s.ErrorOut},
                  summary="Check the document's current version (queued; poll "
                          "GET /originality/{check_id}). Reading is enough: viewers may check.")
def originality_check(request: HttpRequest, document_id: int) -> Status[dict[str, Any]]:
    membership = _member(request)
    doc = document_selectors.document_get(workspace_id=membership.workspace_id,
                                          document_id=document_id)
    check = originality_services.document_check_request(membership=membership, document=doc)
    return Status(202, _check_out(check))


@originality.get("/originality/{check_id}", response={200: s.CheckOut, 404: s.ErrorOut},
                 summary="An originality check's status and report")
def originality_detail(request: HttpRequest, check_id: int) -> dict[str, Any]:
    check = OriginalityCheck.objects.filter(
        pk=check_id, workspace_id=_member(request).workspace_id).first()
    if check is None:
        raise Http404
    return _check_out(check)


# --- SEO ---------------------------------------------------------------------------------------

seo = Router(tags=["seo"])


def _seo_text(text: str) -> str:
    if len(text) > settings.DOCUMENT_MAX_CHARS:
        raise ApiError(413, f"The text is {len(text):,} characters long; the limit is "
                            f"{settings.DOCUMENT_MAX_CHARS:,}.", errors={"text": "Too long."})
    return text


@seo.post("/seo/analyse", response={200: dict[str, Any], 400: s.ErrorOut, 404: s.ErrorOut,
                                    413: s.ErrorOut},
          summary="Keyword coverage, density, placement, meta lengths and readability of a text")
def seo_analyse(request: HttpRequest, payload: s.SeoAnalyseIn) -> dict[str, Any]:
    from copywriter.seo.keywords import KeywordError, parse_keywords
    from copywriter.seo.report import KINDS, analyse
    from copywriter.seo.selectors import keyword_list_get

    _refuse_unstorable(payload.model_dump())
    text = _seo_text(payload.text)
    raw: str | list[str] = payload.keywords
    if payload.keyword_list is not None:  # another workspace's list is 404, like a missing one
        raw = list(keyword_list_get(workspace_id=_member(request).workspace_id,
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


@seo.post("/seo/suggest", response={200: s.SeoSuggestOut, 400: s.ErrorOut, 413: s.ErrorOut},
          summary="Keyphrase suggestions for a text and its brief (YAKE, in the request)")
def seo_suggest(request: HttpRequest, payload: s.SeoSuggestIn) -> dict[str, Any]:
    from copywriter.seo.suggestions import suggest_keywords

    _refuse_unstorable(payload.model_dump())
    text = _seo_text(payload.text)
    # KeyBERT would load torch into the web process; the web page gets its suggestions from a
    # worker, the API answers at once with YAKE's.
    found = suggest_keywords(text, payload.brief, payload.n, keybert=False)
    return {"suggestions": [item.as_dict() for item in found], "method": "yake"}


api.add_router("", templates)
api.add_router("", generations)
api.add_router("", documents)
api.add_router("", facts)
api.add_router("", originality)
api.add_router("", seo)
