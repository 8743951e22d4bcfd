"""The MCP server: the JSON API's operations as tools for agents (Claude Desktop, IDEs, ...).

Each tool acts for one membership: the API token's (``copywriter/api/auth.py``), with that
member's role and in that workspace only, exactly as the API does. Over stdio the token is the
one the process was started with (``manage.py mcp --token`` or ``COPYWRITER_API_TOKEN``) and is
checked again on every call, so a revoked token or a removed member stops working at once;
over streamable HTTP each request carries its own ``Authorization: Bearer`` and the HTTP gate
(``http.py``) puts the membership it authenticated in the request's scope.

The tools call the same selectors, services and output shapes as the API's routers, and fail
with the API's answers (``errors.py``), so an agent and a script see the same behaviour.
Tools are plain functions: the SDK runs them in a worker thread, where the ORM may be used.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from django.conf import settings
from django.db import close_old_connections
from django.http import Http404
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from copywriter.api import schemas as s
from copywriter.api.auth import require_token_writer, token_member
from copywriter.api.errors import ApiError
from copywriter.api.inputs import refuse_unstorable
from copywriter.api.routers.documents import _document_detail, _document_out
from copywriter.api.routers.generations import _generation_out
from copywriter.api.routers.originality import _check_out
from copywriter.api.routers.templates import _template_out, template_by_slug
from copywriter.api.routers.workflow import WorkflowOut, request_review_by_email
from copywriter.catalog import selectors as catalog_selectors
from copywriter.catalog.models import Template
from copywriter.documents import selectors as document_selectors
from copywriter.documents import services as document_services
from copywriter.generation import selectors as generation_selectors
from copywriter.generation import services as generation_services
from copywriter.generation.models import Generation
from copywriter.generation.models import Status as GenerationStatus
from copywriter.generation.tones import LENGTHS
from copywriter.mcp.errors import tool_error
from copywriter.originality import services as originality_services
from copywriter.originality.models import CheckStatus, OriginalityCheck
from copywriter.workspaces.models import Membership

# Where the HTTP gate leaves the membership it authenticated (the ASGI scope of the request).
SCOPE_KEY = "copywriter.membership"
# The longest a tool waits for a worker; a client's own request timeout is often about a
# minute, so the defaults stay under it and a caller who waits longer asks for it.
MAX_WAIT_SECONDS = 300
POLL_SECONDS = 0.5

INSTRUCTIONS = (
    "Marketing copy from templates, in one workspace (the API token's). Find a template with "
    "search_templates or list_templates, read its fields with get_template, then generate; "
    "save the copy you keep with create_document. Errors are JSON: status, detail and, for "
    "invalid input, errors by field name.")

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                        open_world_hint=False)

Limit = Annotated[int, Field(ge=1, le=100, description="How many items to return (1-100).")]
Offset = Annotated[int, Field(ge=0, le=100_000, description="How many items to skip.")]
TemplateRef = Annotated[str, Field(min_length=1, max_length=80, description=(
    "The template's slug from search_templates or list_templates (e.g. "
    "'google-search-ad'); its numeric id works too."))]
Wait = Annotated[float, Field(ge=0, le=MAX_WAIT_SECONDS, description=(
    f"Seconds to wait for a worker to finish (0-{MAX_WAIT_SECONDS}); if it has not finished "
    "by then, the answer has the id and status to ask again with."))]


class CopywriterMcp:
    """The tools, bound to how callers are identified (a fixed token, or the HTTP request's)."""

    def __init__(self, *, token: str | None = None):
        self.token = token
        self.server: MCPServer = MCPServer(
            "copywriter", title="copywriter", instructions=INSTRUCTIONS, version="1",
            log_level="WARNING")
        self._add_tools()

    # --- who calls -------------------------------------------------------------------------

    def _member(self, ctx: Context) -> Membership:
        if self.token is not None:
            return token_member(self.token)[1]
        request = ctx.request_context.request
        scope = getattr(request, "scope", None) or {}
        membership = scope.get(SCOPE_KEY)
        if not isinstance(membership, Membership):
            # Only reachable if the server is mounted without its gate: refuse, never guess.
            raise ApiError(401, "Send an API token: Authorization: Bearer cw_... (make one in "
                                "the workspace's Settings > API tokens).")
        return membership

    @contextmanager
    def _call(self, ctx: Context, tool: str) -> Iterator[Membership]:
        """One tool call: a fresh look at the database connection (this runs in a worker
        thread that outlives the call), the caller, and every failure as the API answers it."""
        close_old_connections()
        try:
            yield self._member(ctx)
        except ToolError:
            raise
        except Exception as exc:
            raise tool_error(exc, tool=tool) from exc
        finally:
            close_old_connections()

    # --- tools -----------------------------------------------------------------------------

    def _add_tools(self) -> None:
        tools: list[tuple[Callable[..., Any], ToolAnnotations]] = [
            (self.list_templates, READ), (self.search_templates, READ),
            (self.get_template, READ), (self.generate, WRITE), (self.get_generation, READ),
            (self.list_documents, READ), (self.read_document, READ),
            (self.create_document, WRITE), (self.check_originality, WRITE),
            (self.request_review, WRITE),
        ]
        for fn, hints in tools:
            self.server.add_tool(fn, annotations=hints, structured_output=True)

    def list_templates(
        self, ctx: Context,
        category: Annotated[str, Field(max_length=40, description=(
            "Only this category (e.g. 'ads', 'ecommerce', 'email'); empty: all."))] = "",
        limit: Limit = 20, offset: Offset = 0,
    ) -> s.TemplatePage:
        """List the templates this workspace can use (built-in and its own), by category and
        title. Each has an id, a slug (what generate takes), a title and a description."""
        return self._templates(ctx, "list_templates", "", category, limit, offset)

    def search_templates(
        self, ctx: Context,
        query: Annotated[str, Field(max_length=100, description=(
            "Words that must all appear in the title, description, category or tags, "
            "e.g. 'facebook ad' or 'product description'."))],
        category: Annotated[str, Field(max_length=40, description=(
            "Only this category; empty: all."))] = "",
        limit: Limit = 20, offset: Offset = 0,
    ) -> s.TemplatePage:
        """Search the templates this workspace can use; title matches come first."""
        return self._templates(ctx, "search_templates", query, category, limit, offset)

    def _templates(self, ctx: Context, tool: str, query: str, category: str, limit: int,
                   offset: int) -> s.TemplatePage:
        with self._call(ctx, tool) as membership:
            refuse_unstorable({"query": query, "category": category})
            qs = catalog_selectors.template_search(workspace_id=membership.workspace_id,
                                                   q=query, category=category)
            return s.TemplatePage.model_validate({
                "count": qs.count(), "limit": limit, "offset": offset,
                "items": [_template_out(t) for t in qs[offset:offset + limit]]})

    def get_template(self, ctx: Context, template: TemplateRef) -> s.TemplateDetailOut:
        """One template: the fields generate needs (name, label, type, required, limits,
        choices), the tones and lengths it can be written in, and its word range."""
        with self._call(ctx, "get_template") as membership:
            t = self._template(membership, template)
            spec = t.spec()
            ws = membership.workspace_id
            return s.TemplateDetailOut.model_validate({
                **_template_out(t), "tags": list(spec.tags), "variants": spec.variants,
                "min_words": spec.min_words, "max_words": spec.max_words,
                "fields": [{"name": f.name, "label": f.label, "type": f.type,
                            "required": f.required, "help": f.help,
                            "max_length": f.max_length, "choices": list(f.choices),
                            "min": f.min, "max": f.max} for f in spec.fields],
                "tones": [key for key, _ in generation_services.tone_choices(workspace_id=ws)],
                "lengths": list(LENGTHS)})

    def generate(
        self, ctx: Context, template: TemplateRef,
        fields: Annotated[dict[str, str | int], Field(description=(
            "The template's field values by field name (see get_template), e.g. "
            "{\"product\": \"Trail boots\", \"benefit\": \"Waterproof\"}."))],
        tone: Annotated[str, Field(max_length=40, description=(
            "A tone from get_template's tones, or a brand voice of the workspace."))]
        = "professional",
        variants: Annotated[int | None, Field(description=(
            f"How many variants to write (1-{settings.GENERATION_MAX_VARIANTS}); empty: the "
            "template's own number."))] = None,
        length: Annotated[str, Field(max_length=10, description="short, medium or long")]
        = "medium",
        fact_sheets: Annotated[list[int], Field(max_length=20, description=(
            "Ids of the workspace's fact sheets whose facts the writer is given."))] = [],  # noqa: B006
        wait_seconds: Wait = 50,
    ) -> s.GenerationOut:
        """Write copy with a template: queue a generation and wait for the worker. When it
        finishes in time, the answer has status 'done' and the variants, each with its
        originality and claims reports; otherwise it has the generation's id and status
        ('queued' or 'running'): ask get_generation later. Editors and owners only."""
        with self._call(ctx, "generate") as membership:
            require_token_writer(membership)
            refuse_unstorable({"template": template, "fields": fields, "tone": tone,
                               "length": length})
            gen = generation_services.generation_create(
                membership=membership, template=self._template(membership, template),
                fields=fields, tone=tone, variants=variants, length=length,
                fact_sheets=fact_sheets)
            return self._generation(membership, gen.pk, wait_seconds)

    def get_generation(
        self, ctx: Context,
        generation_id: Annotated[int, Field(ge=1, description="The id generate answered.")],
        wait_seconds: Wait = 0,
    ) -> s.GenerationOut:
        """A generation's status and, once done, its variants with their originality and
        claims reports; waits up to wait_seconds for it to finish."""
        with self._call(ctx, "get_generation") as membership:
            return self._generation(membership, generation_id, wait_seconds)

    def list_documents(
        self, ctx: Context,
        query: Annotated[str, Field(max_length=200, description=(
            "Words to find in the title or text; empty: all, most recently changed first."))]
        = "",
        limit: Limit = 20, offset: Offset = 0,
    ) -> s.DocumentPage:
        """List or search the workspace's documents (not their text: see read_document)."""
        with self._call(ctx, "list_documents") as membership:
            refuse_unstorable(query, "query")
            qs = document_selectors.documents_for_workspace(
                workspace_id=membership.workspace_id, q=query)
            return s.DocumentPage.model_validate({
                "count": qs.count(), "limit": limit, "offset": offset,
                "items": [_document_out(d) for d in qs[offset:offset + limit]]})

    def read_document(
        self, ctx: Context,
        document_id: Annotated[int, Field(ge=1, description="The document's id.")],
    ) -> s.DocumentDetailOut:
        """A document's current title and text, and its list of versions."""
        with self._call(ctx, "read_document") as membership:
            doc = document_selectors.document_get(workspace_id=membership.workspace_id,
                                                  document_id=document_id)
            return s.DocumentDetailOut.model_validate(_document_detail(doc))

    def create_document(
        self, ctx: Context,
        title: Annotated[str, Field(max_length=200, description="The document's title.")],
        body: Annotated[str, Field(description="The text (plain text or Markdown).")] = "",
    ) -> s.DocumentDetailOut:
        """Save text as a new document of the workspace (its version 1), e.g. the variant of
        a generation you keep. Editors and owners only."""
        with self._call(ctx, "create_document") as membership:
            require_token_writer(membership)
            refuse_unstorable({"title": title, "body": body})
            doc = document_services.document_create(membership=membership, title=title,
                                                    body=body)
            return s.DocumentDetailOut.model_validate(_document_detail(doc))

    def request_review(
        self, ctx: Context,
        document_id: Annotated[int, Field(ge=1, description="The document to have reviewed.")],
        reviewers: Annotated[list[str], Field(max_length=20, description=(
            "Email addresses of members who may approve (the workspace's owners, or its named "
            "reviewers); empty to ask the last round's reviewers again after changes were "
            "requested."))] = [],  # noqa: B006 (the SDK copies defaults into the schema)
        comment: Annotated[str, Field(max_length=5000, description=(
            "A note for the reviewers."))] = "",
    ) -> WorkflowOut:
        """Ask named members to review the document's current version (draft or changes
        requested -> in review); they are emailed and see it under "Waiting for me". Returns
        the document's workflow state. Editors and owners only."""
        with self._call(ctx, "request_review") as membership:
            require_token_writer(membership)
            refuse_unstorable({"reviewers": reviewers, "comment": comment})
            return WorkflowOut.model_validate(
                request_review_by_email(membership, document_id, reviewers, comment))

    def check_originality(
        self, ctx: Context,
        document_id: Annotated[int, Field(ge=1, description="The document to check.")],
        wait_seconds: Wait = 30,
    ) -> s.CheckOut:
        """Check a document's current version for overlap with the workspace's other texts
        and references, and wait up to wait_seconds for the report. While a check of the
        document is pending, asking again returns that check (so calling again polls it).
        Viewers may check."""
        with self._call(ctx, "check_originality") as membership:
            doc = document_selectors.document_get(workspace_id=membership.workspace_id,
                                                  document_id=document_id)
            check = originality_services.document_check_request(membership=membership,
                                                                 document=doc)
            pending = (CheckStatus.QUEUED, CheckStatus.RUNNING)
            _wait(lambda: OriginalityCheck.objects.filter(pk=check.pk, status__in=pending)
                  .exists(), wait_seconds)
            check.refresh_from_db()
            return s.CheckOut.model_validate(_check_out(check))

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _template(membership: Membership, ref: str) -> Template:
        """By slug as the API takes it, or by the numeric id the listings also show."""
        if ref.isdigit():
            t = catalog_selectors.template_get(workspace_id=membership.workspace_id,
                                               template_id=int(ref))
            if t.current is None:
                raise Http404
            return t
        return template_by_slug(membership.workspace_id, ref)

    @staticmethod
    def _generation(membership: Membership, generation_id: int, wait: float) -> s.GenerationOut:
        gen = generation_selectors.generation_get(workspace_id=membership.workspace_id,
                                                  generation_id=generation_id)
        unfinished = (GenerationStatus.QUEUED, GenerationStatus.RUNNING)
        _wait(lambda: Generation.objects.filter(pk=gen.pk, status__in=unfinished).exists(), wait)
        gen.refresh_from_db()
        return s.GenerationOut.model_validate(_generation_out(gen))


def _wait(pending: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + min(seconds, MAX_WAIT_SECONDS)
    while pending() and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)


def build_server(*, token: str | None = None) -> MCPServer:
    """The server; ``token``: every call acts as this API token (stdio), else each HTTP
    request's own token, checked by the gate in ``http.py``."""
    return CopywriterMcp(token=token).server
