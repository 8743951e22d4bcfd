"""The document workflow, in one place: every state change (web, API, the edit receiver) goes
through ``_move``; nothing else writes ``DocumentState``.

    draft ──request review──> in_review ──approve──────────> approved ──publish──> published
                                  │  ^
                                  │  └──re-request── changes_requested
                                  └──request changes──┘
    approved / published ──any new head version (an edit, a restore)──> draft

Publishing straight from draft, in review or changes requested is allowed only where the
workspace says publishing needs no approval. Each transition checks who may make it, writes the
state row in a transaction, records ``document.state_changed`` in the audit trail, and sends
``signals.document_state_changed`` once the transaction commits. A refused transition is a
``WorkflowError`` (a ``UserError``: 400, or 403 for who may not) with a sentence saying why.

Notifications (review requested, decisions, @mentions) are emails sent after the commit; a
failed send is logged, never raised. A mention is ``@`` and the member's email address up to the
``@`` (``@maria.lopez`` for maria.lopez@example.com), case-insensitive.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from copywriter.accounts.models import User
from copywriter.audit import services as audit
from copywriter.core.errors import UserError
from copywriter.documents.models import Document, DocumentVersion
from copywriter.style import services as style_services
from copywriter.workflow.models import (
    Approvers,
    Comment,
    Decision,
    DocumentState,
    NotificationPreference,
    ReviewRequest,
    State,
    WorkflowSettings,
)
from copywriter.workflow.signals import document_state_changed
from copywriter.workspaces.models import Membership, Workspace

log = logging.getLogger(__name__)

COMMENT_MAX_CHARS = 5000
QUOTE_MAX_CHARS = 2000
MAX_REVIEWERS = 20
NOTIFICATION_KINDS = ("review_requested", "decisions", "mentions")
MENTION = re.compile(r"(?<![\w.+-])@([A-Za-z0-9][A-Za-z0-9._+-]*)")

# (from, to) -> the action's name, for messages; anything else is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (State.DRAFT, State.IN_REVIEW): "request a review",
    (State.CHANGES_REQUESTED, State.IN_REVIEW): "request a review again",
    (State.IN_REVIEW, State.APPROVED): "approve",
    (State.IN_REVIEW, State.CHANGES_REQUESTED): "request changes",
    (State.APPROVED, State.PUBLISHED): "publish",
    (State.APPROVED, State.DRAFT): "edit",
    (State.PUBLISHED, State.DRAFT): "edit",
    # only where the workspace's publishing needs no approval:
    (State.DRAFT, State.PUBLISHED): "publish",
    (State.IN_REVIEW, State.PUBLISHED): "publish",
    (State.CHANGES_REQUESTED, State.PUBLISHED): "publish",
}


class WorkflowError(UserError):
    """A refused workflow action; ``status`` 400 (not now) or 403 (not you)."""


# --- reading --------------------------------------------------------------------------------

def settings_for(workspace: Workspace | int) -> WorkflowSettings:
    """The workspace's rules (an unsaved row with the defaults when none was ever saved)."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    row = WorkflowSettings.objects.filter(workspace_id=workspace_id).first()
    return row if row is not None else WorkflowSettings(workspace_id=workspace_id)


def named_reviewer_ids(ws_settings: WorkflowSettings) -> set[int]:
    if ws_settings.pk is None:
        return set()
    return set(ws_settings.reviewers.values_list("pk", flat=True))


def may_approve(membership: Membership, ws_settings: WorkflowSettings | None = None) -> bool:
    """Owners, or (where the workspace names reviewers) the named reviewers who can still
    write; viewers never."""
    ws_settings = ws_settings or settings_for(membership.workspace_id)
    if ws_settings.approvers == Approvers.OWNERS:
        return membership.is_owner
    return membership.can_write and membership.user_id in named_reviewer_ids(ws_settings)


def approvers(workspace_id: int) -> list[Membership]:
    """The members who may approve in this workspace, for the review-request form."""
    ws_settings = settings_for(workspace_id)
    members = (Membership.objects.filter(workspace_id=workspace_id).select_related("user")
               .order_by("user__email"))
    return [m for m in members if may_approve(m, ws_settings)]


def state_of(document: Document) -> DocumentState:
    row = DocumentState.objects.filter(document=document).first()
    return row if row is not None else DocumentState(document=document, state=State.DRAFT)


def pending_requests(document: Document) -> QuerySet[ReviewRequest]:
    return (ReviewRequest.objects.filter(document=document, decision=Decision.PENDING)
            .select_related("reviewer", "requested_by").order_by("created_at", "pk"))


def waiting_for(membership: Membership) -> QuerySet[ReviewRequest]:
    """Review requests this member has not answered, on live documents still in review."""
    return (ReviewRequest.objects
            .filter(reviewer_id=membership.user_id, decision=Decision.PENDING,
                    document__workspace_id=membership.workspace_id,
                    document__deleted_at__isnull=True,
                    document__workflow_state__state=State.IN_REVIEW)
            .select_related("document", "requested_by").order_by("created_at", "pk"))


RELEASES = ("approved", "published")


def released_versions(membership: Membership, which: str) -> list[tuple[Document, DocumentVersion]]:
    """The bulk export's content, by the workflow's record and nothing else: for every live
    document of the workspace, the version last approved (``which="approved"``) or published,
    frozen as it was then, even where the document has been edited since. Drafts and documents
    never approved are not in it. Oldest document first."""
    if which not in RELEASES:
        raise WorkflowError("Export the approved or the published versions.",
                            field_errors={"which": "approved or published"})
    field = f"{which}_version"
    states = (DocumentState.objects
              .filter(document__workspace_id=membership.workspace_id,
                      document__deleted_at__isnull=True, **{f"{field}__isnull": False})
              .select_related("document").order_by("document__created_at", "document_id"))
    wanted = {st.document_id: getattr(st, field) for st in states}
    versions = {(v.document_id, v.number): v for v in DocumentVersion.objects.filter(
        document_id__in=wanted, number__in=set(wanted.values()))}
    return [(st.document, versions[(st.document_id, wanted[st.document_id])])
            for st in states if (st.document_id, wanted[st.document_id]) in versions]


def allowed_actions(membership: Membership, state: DocumentState,
                    ws_settings: WorkflowSettings | None = None) -> set[str]:
    """What this member may do to a document in this state (the buttons the panel shows)."""
    ws_settings = ws_settings or settings_for(membership.workspace_id)
    actions: set[str] = set()
    if membership.can_write:
        actions.add("comment")
        if state.state in (State.DRAFT, State.CHANGES_REQUESTED):
            actions.add("request_review")
        if state.state == State.APPROVED or (
                not ws_settings.publish_needs_approval and state.state != State.PUBLISHED):
            actions.add("publish")
    if state.state == State.IN_REVIEW and may_approve(membership, ws_settings):
        actions |= {"approve", "request_changes"}
    return actions


def comment_threads(document: Document, *, version: int | None = None) -> list[Comment]:
    """Top-level comments (with ``thread``: their replies), oldest first; only those made on
    ``version`` when given."""
    qs = Comment.objects.filter(document=document).select_related("author", "resolved_by")
    if version is not None:
        qs = qs.filter(version=version)
    rows = list(qs)
    replies: dict[int, list[Comment]] = {}
    for c in rows:
        if c.parent_id is not None:
            replies.setdefault(c.parent_id, []).append(c)
    roots = [c for c in rows if c.parent_id is None]
    for c in roots:
        c.thread = replies.get(c.pk, [])  # type: ignore[attr-defined]
    return roots


def frozen_version(document: Document, which: str) -> DocumentVersion | None:
    """The last ``approved`` or ``published`` version, as it was then (versions never change)."""
    st = state_of(document)
    number = st.approved_version if which == "approved" else st.published_version
    if number is None:
        return None
    return DocumentVersion.objects.filter(document=document, number=number).first()


# --- the transitions ------------------------------------------------------------------------

def _style_findings(version: DocumentVersion) -> list[str]:
    """The house-style problems of ``version`` under its workspace's own rules, one sentence
    each ([] when it is clean). proselint's generic advice does not hold an approval up."""
    return [(f'"{version.body[f.start:f.end]}": ' if f.end > f.start else "") + f.message
            for f in style_services.blocking(style_services.document_findings(version))]


def _document_for_update(membership: Membership, document_id: int) -> Document:
    """The live document of the member's workspace, locked (404 for another workspace's id)."""
    return get_object_or_404(Document.objects.select_for_update(), pk=document_id,
                             workspace_id=membership.workspace_id, deleted_at__isnull=True)


def _state_for_update(document: Document) -> DocumentState:
    st, _ = DocumentState.objects.select_for_update().get_or_create(
        document=document, defaults={"state": State.DRAFT})
    return st


def _check_writer(membership: Membership, what: str) -> None:
    if not membership.can_write:
        raise WorkflowError(f"Viewers cannot {what}; ask an owner for the editor role.",
                            status=403)


def _refuse(st: DocumentState, new: str) -> None:
    label = State(st.state).label.lower()
    if (st.state, new) not in TRANSITIONS:
        hints = {
            State.APPROVED: {
                State.DRAFT: "Request a review first.",
                State.IN_REVIEW: "Request a review first.",
                State.CHANGES_REQUESTED: "Request a review again first.",
                State.PUBLISHED: "It was published; edit it to start a new draft.",
            },
            State.CHANGES_REQUESTED: {
                State.DRAFT: "It has no review to decide: request a review first.",
                State.CHANGES_REQUESTED: "Changes were already requested; the writer re-requests "
                                         "a review when they are made.",
                State.APPROVED: "Changes were requested; request a review again first.",
                State.PUBLISHED: "It was published; edit it to start a new draft.",
            },
            State.IN_REVIEW: {
                State.IN_REVIEW: "It is already in review.",
                State.APPROVED: "It is already approved.",
                State.PUBLISHED: "It is published; edit it to start a new draft.",
            },
            State.PUBLISHED: {State.PUBLISHED: "It is already published."},
        }
        hint = hints.get(State(new), {}).get(State(st.state), "")
        raise WorkflowError(f"This document is {label}: you cannot "
                            f"{_verb(new)} it now. {hint}".strip())


def _verb(new: str) -> str:
    return {State.IN_REVIEW: "request a review of", State.APPROVED: "approve",
            State.CHANGES_REQUESTED: "request changes to", State.PUBLISHED: "publish",
            State.DRAFT: "return to draft"}[State(new)]


def _move(*, document: Document, st: DocumentState, new: str, actor: User | None,
          version: int | None, comment: str = "", details: dict[str, Any] | None = None,
          request_meta: dict[str, Any] | None = None) -> None:
    """Write the transition (inside the caller's transaction), record it, signal on commit."""
    old = st.state
    st.state, st.changed_by, st.changed_at, st.version = new, actor, timezone.now(), version
    if new == State.APPROVED:
        st.approved_version = version
    if new == State.PUBLISHED:
        st.published_version = version
    st.save()
    audit.record(workspace=document.workspace, actor=actor, action="document.state_changed",
                 target=document,
                 summary=f"moved \u201c{document.title}\u201d from {State(old).label.lower()} to "
                         f"{State(new).label.lower()}",
                 details={"old": old, "new": new, "version": version, "comment": comment[:500],
                          **(details or {})})
    doc_version = (DocumentVersion.objects.filter(document=document, number=version).first()
                   if version is not None else None)

    def send() -> None:
        for receiver, result in document_state_changed.send_robust(
                sender=Document, document=document, version=doc_version, old=old, new=new,
                actor=actor, comment=comment):
            if isinstance(result, Exception):
                log.error("document_state_changed receiver %r failed: %r", receiver, result)

    transaction.on_commit(send)


def _clean_comment(text: str, *, required: bool, what: str = "comment") -> str:
    text = (text or "").replace("\x00", "").replace("\r\n", "\n").strip()
    if required and not text:
        raise WorkflowError(f"Write a {what}: say what should change.",
                            field_errors={"comment": "Required."})
    if len(text) > COMMENT_MAX_CHARS:
        raise WorkflowError(f"The {what} is {len(text):,} characters long; the limit is "
                            f"{COMMENT_MAX_CHARS:,}.", field_errors={"comment": "Too long."})
    return text


def request_review(*, membership: Membership, document_id: int, reviewer_ids: Iterable[int],
                   comment: str = "") -> list[ReviewRequest]:
    """Ask named members (who may approve) to review the current version."""
    _check_writer(membership, "request reviews")
    comment = _clean_comment(comment, required=False)
    wanted = list(dict.fromkeys(int(r) for r in reviewer_ids))
    ws_settings = settings_for(membership.workspace_id)
    with transaction.atomic():
        doc = _document_for_update(membership, document_id)
        st = _state_for_update(doc)
        _refuse(st, State.IN_REVIEW)
        if not wanted and st.state == State.CHANGES_REQUESTED:
            # Re-requesting: the reviewers of the last round, unless others are named.
            wanted = list(dict.fromkeys(
                ReviewRequest.objects.filter(document=doc).order_by("-created_at")
                .values_list("reviewer_id", flat=True)))[:MAX_REVIEWERS]
        if not wanted:
            raise WorkflowError("Choose at least one reviewer.",
                                field_errors={"reviewers": "Choose at least one reviewer."})
        if len(wanted) > MAX_REVIEWERS:
            raise WorkflowError(f"Ask at most {MAX_REVIEWERS} reviewers.")
        members = {m.user_id: m for m in Membership.objects.filter(
            workspace_id=membership.workspace_id, user_id__in=wanted).select_related("user")}
        unknown = [r for r in wanted if r not in members]
        if unknown:
            raise WorkflowError("A reviewer you chose is not a member of this workspace.",
                                field_errors={"reviewers": "Not a member."})
        cannot = [members[r].user.email for r in wanted if not may_approve(members[r], ws_settings)]
        if cannot:
            who = ("owners" if ws_settings.approvers == Approvers.OWNERS
                   else "the named reviewers (workflow settings)")
            raise WorkflowError(f"{', '.join(cannot)} cannot approve in this workspace: only "
                                f"{who} can. Choose one of them.",
                                field_errors={"reviewers": "Cannot approve here."})
        made = [ReviewRequest.objects.create(document=doc, version=doc.head_number,
                                             reviewer=members[r].user,
                                             requested_by=membership.user, comment=comment)
                for r in wanted]
        _move(document=doc, st=st, new=State.IN_REVIEW, actor=membership.user,
              version=doc.head_number, comment=comment,
              details={"reviewers": [members[r].user.email for r in wanted]})
        _notify("review_requested", [members[r].user for r in wanted if r != membership.user_id],
                subject=f"Review requested: {doc.title}",
                body=f"{membership.user.display_name} asks you to review \u201c{doc.title}\u201d "
                     f"(version {doc.head_number}).\n\n{comment}\n\nOpen it: "
                     f"{_url(doc)}\n")
    return made


def _decide(*, membership: Membership, document_id: int, comment: str, new: str) -> DocumentState:
    ws_settings = settings_for(membership.workspace_id)
    with transaction.atomic():
        doc = _document_for_update(membership, document_id)
        st = _state_for_update(doc)
        if not may_approve(membership, ws_settings):
            who = ("owners" if ws_settings.approvers == Approvers.OWNERS
                   else "the named reviewers")
            raise WorkflowError(f"Only {who} can approve or request changes in this workspace.",
                                status=403)
        _refuse(st, new)
        comment = _clean_comment(comment, required=new == State.CHANGES_REQUESTED)
        head = DocumentVersion.objects.get(document=doc, number=doc.head_number)
        if new == State.APPROVED and ws_settings.approval_needs_clean_style:
            findings = _style_findings(head)
            if findings:
                raise WorkflowError("This workspace approves only text that passes the house "
                                    "style check: " + "; ".join(findings[:5]))
        requests = list(pending_requests(doc))
        decided_at = timezone.now()
        for r in requests:
            r.decision, r.decided_by, r.decided_at = new, membership.user, decided_at
            if r.reviewer_id == membership.user_id:
                r.comment = comment
            r.save(update_fields=["decision", "decided_by", "decided_at", "comment"])
        _move(document=doc, st=st, new=new, actor=membership.user, version=head.number,
              comment=comment)
        if comment:
            Comment.objects.create(document=doc, version=head.number, author=membership.user,
                                   body=comment)
        authors = {r.requested_by for r in requests if r.requested_by is not None}
        if not authors and head.author is not None:
            authors = {head.author}
        verb = "approved" if new == State.APPROVED else "asked for changes to"
        _notify("decisions", [u for u in authors if u.pk != membership.user_id],
                subject=f"{'Approved' if new == State.APPROVED else 'Changes requested'}: "
                        f"{doc.title}",
                body=f"{membership.user.display_name} {verb} \u201c{doc.title}\u201d (version "
                     f"{head.number}).\n\n{comment}\n\nOpen it: {_url(doc)}\n")
        if comment:
            _notify_mentions(doc, membership, comment)
    return st


def approve(*, membership: Membership, document_id: int, comment: str = "") -> DocumentState:
    """Approve the current version of a document in review; it is kept frozen as approved."""
    return _decide(membership=membership, document_id=document_id, comment=comment,
                   new=State.APPROVED)


def request_changes(*, membership: Membership, document_id: int, comment: str) -> DocumentState:
    """Send a document in review back to its writer; the comment says what should change."""
    return _decide(membership=membership, document_id=document_id, comment=comment,
                   new=State.CHANGES_REQUESTED)


def publish(*, membership: Membership, document_id: int) -> DocumentState:
    """Publish the approved version (or, where publishing needs no approval, the current one)."""
    _check_writer(membership, "publish")
    ws_settings = settings_for(membership.workspace_id)
    with transaction.atomic():
        doc = _document_for_update(membership, document_id)
        st = _state_for_update(doc)
        if st.state == State.PUBLISHED:
            raise WorkflowError("This document is already published; edit it to start a new "
                                "draft.")
        if st.state != State.APPROVED and ws_settings.publish_needs_approval:
            raise WorkflowError(f"This document is {State(st.state).label.lower()}: it needs an "
                                "approval before it can be published. Request a review.")
        version = st.version if st.state == State.APPROVED else doc.head_number
        _move(document=doc, st=st, new=State.PUBLISHED, actor=membership.user, version=version)
    return st


def document_edited(document_id: int) -> None:
    """An approved or published document got a new current version (an edit, a restore): it is
    a draft again; the approved and published versions stay as they were. Runs inside the
    transaction of the save (``documents.signals.document_changed``)."""
    st = DocumentState.objects.select_for_update().filter(
        document_id=document_id, state__in=[State.APPROVED, State.PUBLISHED]).first()
    if st is None:
        return
    doc = Document.objects.select_related("workspace").get(pk=document_id)
    if doc.head_number == st.version:
        return  # trashed, untrashed or an unchanged save: the same text
    head = DocumentVersion.objects.filter(document=doc, number=doc.head_number).first()
    _move(document=doc, st=st, new=State.DRAFT, actor=head.author if head else None,
          version=doc.head_number)


# --- comments -------------------------------------------------------------------------------

def comment_create(*, membership: Membership, document_id: int, body: str,
                   version: int | None = None, parent_id: int | None = None, quote: str = "",
                   start: int | None = None, end: int | None = None) -> Comment:
    """A comment on the document (the current version unless ``version`` is named), a reply
    (``parent_id``), or a comment on a passage (``quote``, with its offsets in the version's
    text when known: a passage that moved is found again by its text)."""
    _check_writer(membership, "comment")
    body = _clean_comment(body, required=True, what="comment")
    quote = (quote or "").replace("\x00", "").replace("\r\n", "\n")
    if len(quote) > QUOTE_MAX_CHARS:
        raise WorkflowError(f"Select a shorter passage (at most {QUOTE_MAX_CHARS:,} characters).",
                            field_errors={"quote": "Too long."})
    with transaction.atomic():
        doc = _document_for_update(membership, document_id)
        parent = None
        if parent_id is not None:
            parent = Comment.objects.filter(pk=parent_id, document=doc).first()
            if parent is None:
                raise WorkflowError("The comment you replied to is not on this document.",
                                    status=404)
            parent = parent.parent or parent  # threads are one level deep
            version = parent.version
        number = doc.head_number if version is None else version
        v = DocumentVersion.objects.filter(document=doc, number=number).first()
        if v is None:
            raise WorkflowError(f"This document has no version {number}.", status=404)
        if quote.strip() and parent is None:
            if start is None or end is None or v.body[start:end] != quote:
                found = v.body.find(quote)
                if found < 0:
                    raise WorkflowError(f"The selected passage is not in version {number}; "
                                        "select it again in the saved text.",
                                        field_errors={"quote": "Not in the text."})
                start, end = found, found + len(quote)
        else:
            quote, start, end = "", None, None
        comment = Comment.objects.create(document=doc, version=number, parent=parent,
                                         author=membership.user, body=body, quote=quote,
                                         start=start, end=end)
        _notify_mentions(doc, membership, body)
    return comment


def comment_resolve(*, membership: Membership, document_id: int, comment_id: int,
                    resolved: bool = True) -> Comment:
    """Resolve (or reopen) a comment's thread."""
    _check_writer(membership, "resolve comments")
    with transaction.atomic():
        doc = _document_for_update(membership, document_id)
        comment = get_object_or_404(Comment.objects.select_for_update(), pk=comment_id,
                                    document=doc)
        comment = comment.parent or comment
        comment.resolved_at = timezone.now() if resolved else None
        comment.resolved_by = membership.user if resolved else None
        comment.save(update_fields=["resolved_at", "resolved_by"])
    return comment


# --- settings and preferences ---------------------------------------------------------------

def settings_update(*, membership: Membership, approvers: str, reviewer_ids: Iterable[int],
                    publish_needs_approval: bool,
                    approval_needs_clean_style: bool) -> WorkflowSettings:
    if not membership.is_owner:
        raise WorkflowError("Only owners change the workflow settings.", status=403)
    if approvers not in Approvers.values:
        raise WorkflowError("Choose who approves: owners or named reviewers.",
                            field_errors={"approvers": "Choose one."})
    wanted = set(int(r) for r in reviewer_ids)
    members = Membership.objects.filter(workspace_id=membership.workspace_id, user_id__in=wanted)
    if len(members) != len(wanted):
        raise WorkflowError("A reviewer you chose is not a member of this workspace.",
                            field_errors={"reviewers": "Not a member."})
    viewers = [m.user.email for m in members.select_related("user") if not m.can_write]
    if viewers:
        raise WorkflowError(f"{', '.join(viewers)} can only read (viewer role); reviewers need "
                            "the editor or owner role.", field_errors={"reviewers": "Viewer."})
    if approvers == Approvers.REVIEWERS and not wanted:
        raise WorkflowError("Name at least one reviewer, or let owners approve.",
                            field_errors={"reviewers": "Choose at least one."})
    with transaction.atomic():
        row, _ = WorkflowSettings.objects.select_for_update().get_or_create(
            workspace_id=membership.workspace_id)
        before = {"approvers": row.approvers, "reviewers": sorted(named_reviewer_ids(row)),
                  "publish_needs_approval": row.publish_needs_approval,
                  "approval_needs_clean_style": row.approval_needs_clean_style}
        row.approvers = approvers
        row.publish_needs_approval = publish_needs_approval
        row.approval_needs_clean_style = approval_needs_clean_style
        row.updated_at = timezone.now()
        row.save()
        row.reviewers.set(list(wanted))
        after = {"approvers": approvers, "reviewers": sorted(wanted),
                 "publish_needs_approval": publish_needs_approval,
                 "approval_needs_clean_style": approval_needs_clean_style}
        audit.record(workspace=membership.workspace, actor=membership.user,
                     action="workflow.settings_changed", target=membership.workspace,
                     summary="changed the review and approval settings",
                     details={"old": before, "new": after})
    return row


def preferences_for(user: User) -> NotificationPreference:
    row = NotificationPreference.objects.filter(user=user).first()
    return row if row is not None else NotificationPreference(user=user)


def preferences_update(*, user: User, **kinds: bool) -> NotificationPreference:
    unknown = set(kinds) - set(NOTIFICATION_KINDS)
    if unknown:
        raise WorkflowError(f"Unknown notification kind: {', '.join(sorted(unknown))}.")
    row, _ = NotificationPreference.objects.get_or_create(user=user)
    for kind, on in kinds.items():
        setattr(row, kind, bool(on))
    row.save()
    return row


# --- notifications --------------------------------------------------------------------------

def _url(document: Document) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(
        "documents:edit", args=[document.workspace_id, document.pk])


@dataclass(frozen=True)
class _Mail:
    subject: str
    body: str
    to: str


def _notify(kind: str, users: Iterable[User], *, subject: str, body: str) -> None:
    """Email each user who did not turn ``kind`` off, once the transaction commits."""
    users = [u for u in dict.fromkeys(users) if u.email and u.is_active]
    if not users:
        return
    prefs = {p.user_id: p for p in NotificationPreference.objects.filter(user__in=users)}
    mails = [_Mail(subject[:200].replace("\n", " "), body, u.email) for u in users
             if getattr(prefs.get(u.pk), kind, True)]

    def send() -> None:
        for mail in mails:
            try:
                send_mail(mail.subject, mail.body + "\nTurn these emails off: "
                          + settings.SITE_URL.rstrip("/") + reverse("workflow:notifications")
                          + "\n", None, [mail.to])
            except Exception:  # a mail server down must not fail the change that was made
                log.exception("workflow notification to %s failed", mail.to)

    if mails:
        transaction.on_commit(send)


def mentioned_members(workspace_id: int, text: str) -> list[Membership]:
    """Members named as ``@local-part`` (of their email address) in ``text``."""
    names = {m.rstrip(".").lower() for m in MENTION.findall(text or "")}
    if not names:
        return []
    members = Membership.objects.filter(workspace_id=workspace_id).select_related("user")
    return [m for m in members if m.user.email.split("@")[0].lower() in names]


def _notify_mentions(doc: Document, membership: Membership, text: str) -> None:
    users = [m.user for m in mentioned_members(doc.workspace_id, text)
             if m.user_id != membership.user_id]
    _notify("mentions", users, subject=f"{membership.user.display_name} mentioned you: "
                                       f"{doc.title}",
            body=f"{membership.user.display_name} wrote on \u201c{doc.title}\u201d:\n\n{text}\n\n"
                 f"Open it: {_url(doc)}\n")

