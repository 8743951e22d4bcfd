"""A document's review and approval: its state, review requests, decisions, publishing and the
comments. Every transition goes through ``workflow.services`` (the same as the web's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from copywriter.api import schemas as s
from copywriter.api.auth import member, writer
from copywriter.api.errors import ApiError
from copywriter.api.inputs import refuse_unstorable
from copywriter.audit import services as audit
from copywriter.documents import selectors as document_selectors
from copywriter.documents.models import Document
from copywriter.workflow import services as workflow
from copywriter.workflow.models import Comment, State
from copywriter.workspaces.models import Membership

router = Router(tags=["workflow"])


class ReviewRequestOut(Schema):
    reviewer: str
    version: int
    requested_by: str | None
    created_at: datetime


class WorkflowOut(Schema):
    document: int
    state: State = Field(..., description="draft, in_review, changes_requested, approved or "
                                          "published")
    version: int | None = Field(None, description="The version the state is about (in review, "
                                                  "approved, published)")
    approved_version: int | None = Field(None, description="The last approved version: "
                                                           "frozen, readable after later edits")
    published_version: int | None = None
    head_version: int
    waiting_for: list[ReviewRequestOut]
    allowed: list[str] = Field(..., description="What this token's member may do now")


class ReviewRequestIn(Schema):
    reviewers: list[str] = Field(default=[], max_length=20,
                                 description="Email addresses of members who may approve; "
                                             "empty to ask the last reviewers again")
    comment: str = Field("", max_length=5000)


class DecisionIn(Schema):
    comment: str = Field("", max_length=5000)


class ChangesIn(Schema):
    comment: str = Field(..., min_length=1, max_length=5000,
                         description="What should change")


class CommentIn(Schema):
    body: str = Field(..., min_length=1, max_length=5000)
    version: int | None = Field(None, ge=1, le=2_000_000_000,
                                description="The version commented on (default: current)")
    parent: int | None = Field(None, ge=1, le=2**62, description="The comment replied to")
    quote: str = Field("", max_length=2000, description="The passage commented on")
    start: int | None = Field(None, ge=0, le=2_000_000_000)
    end: int | None = Field(None, ge=0, le=2_000_000_000)


class CommentOut(Schema):
    id: int
    version: int
    parent: int | None
    author: str | None
    body: str
    quote: str
    start: int | None
    end: int | None
    created_at: datetime
    resolved: bool


def _document(membership: Membership, document_id: int) -> Document:
    return document_selectors.document_get(workspace_id=membership.workspace_id,
                                           document_id=document_id)


def _state_out(membership: Membership, doc: Document) -> dict[str, Any]:
    doc.refresh_from_db()
    st = workflow.state_of(doc)
    return {"document": doc.pk, "state": st.state, "version": st.version,
            "approved_version": st.approved_version, "published_version": st.published_version,
            "head_version": doc.head_number,
            "waiting_for": [{"reviewer": r.reviewer.email, "version": r.version,
                             "requested_by": r.requested_by.email if r.requested_by else None,
                             "created_at": r.created_at} for r in workflow.pending_requests(doc)],
            "allowed": sorted(workflow.allowed_actions(membership, st))}


def _comment_out(c: Comment) -> dict[str, Any]:
    return {"id": c.pk, "version": c.version, "parent": c.parent_id,
            "author": c.author.email if c.author else None, "body": c.body, "quote": c.quote,
            "start": c.start, "end": c.end, "created_at": c.created_at,
            "resolved": c.resolved_at is not None}


ERRORS = {400: s.ErrorOut, 403: s.ErrorOut, 404: s.ErrorOut}


class ReleasedOut(Schema):
    document: int
    title: str = Field(..., description="The title as it was in that version")
    version: int = Field(..., description="The approved (or published) version's number")
    state: State = Field(..., description="The document's state now")
    edited_since: bool = Field(..., description="The document has later versions (a new draft)")
    body: str


@router.get("/workflow/released", response={200: list[ReleasedOut], 400: s.ErrorOut},
            summary="Bulk export: the approved or published version of every document")
def workflow_released(request: HttpRequest, which: str = "approved") -> list[dict[str, Any]]:
    """The workflow's record decides what is exported: each document's last approved (or
    published) version as it was then, never a draft or a later edit."""
    membership = member(request)
    try:
        released = workflow.released_versions(membership, which)
    except workflow.WorkflowError as exc:
        raise ApiError(400, exc.message, errors=exc.field_errors) from None
    audit.record(workspace=membership.workspace, actor=membership.user,
                 action="documents.exported", summary=f"exported the {which} versions of "
                 f"{len(released)} document{'s' if len(released) != 1 else ''} through the API",
                 details={"which": which, "format": "json", "documents": len(released)})
    return [{"document": doc.pk, "title": v.title, "version": v.number,
             "state": doc.workflow_state.state, "edited_since": doc.head_number > v.number,
             "body": v.body} for doc, v in released]


@router.get("/documents/{document_id}/workflow", response={200: WorkflowOut, 404: s.ErrorOut},
            summary="A document's review state, who it waits for, and what you may do")
def workflow_state(request: HttpRequest, document_id: int) -> dict[str, Any]:
    membership = member(request)
    return _state_out(membership, _document(membership, document_id))


@router.post("/documents/{document_id}/workflow/review-requests",
             response={200: WorkflowOut, **ERRORS},
             summary="Request a review of the current version from named members")
def workflow_request_review(request: HttpRequest, document_id: int,
                            payload: ReviewRequestIn) -> dict[str, Any]:
    membership = writer(request)
    refuse_unstorable(payload.model_dump())
    return request_review_by_email(membership, document_id, payload.reviewers, payload.comment)


def request_review_by_email(membership: Membership, document_id: int, reviewers: list[str],
                            comment: str) -> dict[str, Any]:
    """Reviewers named by email (the API's and the MCP server's way), then the one service;
    the document's workflow as ``WorkflowOut`` reads it."""
    doc = _document(membership, document_id)
    emails = {e.strip().lower() for e in reviewers}
    members = {m.user.email.lower(): m.user_id for m in Membership.objects.filter(
        workspace_id=membership.workspace_id).select_related("user")}
    unknown = sorted(emails - set(members))
    if unknown:
        raise ApiError(400, f"Not a member of this workspace: {', '.join(unknown)[:300]}.",
                       errors={"reviewers": "Not a member."})
    workflow.request_review(membership=membership, document_id=doc.pk,
                            reviewer_ids=[members[e] for e in emails], comment=comment)
    return _state_out(membership, doc)


@router.post("/documents/{document_id}/workflow/approve", response={200: WorkflowOut, **ERRORS},
             summary="Approve the current version of a document in review")
def workflow_approve(request: HttpRequest, document_id: int,
                     payload: DecisionIn) -> dict[str, Any]:
    membership = writer(request)
    refuse_unstorable(payload.model_dump())
    doc = _document(membership, document_id)
    workflow.approve(membership=membership, document_id=doc.pk, comment=payload.comment)
    return _state_out(membership, doc)


@router.post("/documents/{document_id}/workflow/request-changes",
             response={200: WorkflowOut, **ERRORS},
             summary="Send a document in review back with a comment saying what to change")
def workflow_request_changes(request: HttpRequest, document_id: int,
                             payload: ChangesIn) -> dict[str, Any]:
    membership = writer(request)
    refuse_unstorable(payload.model_dump())
    doc = _document(membership, document_id)
    workflow.request_changes(membership=membership, document_id=doc.pk, comment=payload.comment)
    return _state_out(membership, doc)


@router.post("/documents/{document_id}/workflow/publish", response={200: WorkflowOut, **ERRORS},
             summary="Publish the approved version (or the current one where the workspace "
                     "publishes without approval)")
def workflow_publish(request: HttpRequest, document_id: int) -> dict[str, Any]:
    membership = writer(request)
    doc = _document(membership, document_id)
    workflow.publish(membership=membership, document_id=doc.pk)
    return _state_out(membership, doc)


@router.get("/documents/{document_id}/comments", response={200: list[CommentOut], 404: s.ErrorOut},
            summary="A document's comments (replies name their parent), oldest first")
def comment_list(request: HttpRequest, document_id: int) -> list[dict[str, Any]]:
    doc = _document(member(request), document_id)
    return [_comment_out(c) for c in Comment.objects.filter(document=doc)
            .select_related("author").order_by("created_at", "pk")]


@router.post("/documents/{document_id}/comments", response={201: CommentOut, **ERRORS},
             summary="Comment on a document, a version, a passage (quote), or reply")
def comment_create(request: HttpRequest, document_id: int,
                   payload: CommentIn) -> Status[dict[str, Any]]:
    membership = writer(request)
    refuse_unstorable(payload.model_dump())
    doc = _document(membership, document_id)
    comment = workflow.comment_create(
        membership=membership, document_id=doc.pk, body=payload.body, version=payload.version,
        parent_id=payload.parent, quote=payload.quote, start=payload.start, end=payload.end)
    return Status(201, _comment_out(comment))


@router.post("/documents/{document_id}/comments/{comment_id}/resolve",
             response={200: CommentOut, **ERRORS}, summary="Resolve a comment's thread")
def comment_resolve(request: HttpRequest, document_id: int, comment_id: int) -> dict[str, Any]:
    membership = writer(request)
    doc = _document(membership, document_id)
    return _comment_out(workflow.comment_resolve(membership=membership, document_id=doc.pk,
                                                 comment_id=comment_id))
