from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from copywriter.audit.services import record
from copywriter.core import scopes
from copywriter.core.errors import UserError
from copywriter.documents.models import Document, DocumentVersion, VersionKind
from copywriter.documents.signals import document_changed
from copywriter.workspaces.decorators import require_writer
from copywriter.workspaces.models import Membership

EXPORT_FORMATS = ("md", "html", "txt")


class DocumentTooLarge(UserError):
    def __init__(self, message: str):
        super().__init__(message, status=413, field_errors={"body": message})


def _check_write(membership: Membership) -> None:
    require_writer(membership, PermissionDenied("Viewers cannot change documents."))


def _clean(title: str, body: str) -> tuple[str, str]:
    # NUL cannot be stored in PostgreSQL text and is never typed: drop it rather than fail.
    title = (title or "").replace("\x00", "").strip()[:200] or "Untitled"
    body = (body or "").replace("\r\n", "\n").replace("\x00", "")
    if len(body) > settings.DOCUMENT_MAX_CHARS:
        raise DocumentTooLarge(f"The document is {len(body):,} characters long; the limit is "
                               f"{settings.DOCUMENT_MAX_CHARS:,}. Split it into several documents.")
    return title, body


def _reindex(document_id: int) -> None:
    """Tell what reads the text (originality re-indexes the passages once this transaction
    commits: a worker embeds them; the web process only enqueues)."""
    document_changed.send(sender=Document, document_id=document_id)


def _next_number(document: Document) -> int:
    current = document.versions.aggregate(m=Max("number"))["m"] or 0
    return int(current) + 1


def document_create(*, membership: Membership, title: str, body: str = "",
                    kind: str = VersionKind.CREATE) -> Document:
    _check_write(membership)
    title, body = _clean(title, body)
    now = timezone.now()
    with transaction.atomic():
        doc = Document.objects.create(workspace=membership.workspace, title=title, body=body,
                                      head_number=1, created_by=membership.user, created_at=now,
                                      updated_at=now)
        DocumentVersion.objects.create(document=doc, number=1, kind=kind, title=title, body=body,
                                       author=membership.user, created_at=now)
        _reindex(doc.pk)
    return doc


@dataclass(frozen=True)
class SaveResult:
    document: Document
    version: DocumentVersion  # the new head, or the kept conflict copy
    conflict: bool
    changed: bool


def document_save(*, membership: Membership, document_id: int, title: str, body: str,
                  base_number: int, kind: str = VersionKind.EDIT) -> SaveResult:
    """Save a new version if ``base_number`` is still the head; otherwise keep the text as a
    conflict version and report the conflict. Nothing a user typed is dropped either way."""
    _check_write(membership)
    title, body = _clean(title, body)
    with transaction.atomic():
        doc = (Document.objects.select_for_update()
               .get(pk=document_id, workspace=membership.workspace, deleted_at__isnull=True))
        now = timezone.now()
        if base_number != doc.head_number:
            # Autosave keeps firing while the user reads the conflict: refresh their own latest
            # conflict copy instead of piling up one per keystroke pause.
            last = DocumentVersion.objects.filter(document=doc).order_by("-number").first()
            if (last is not None and last.kind == VersionKind.CONFLICT
                    and last.author_id == membership.user_id and last.based_on == base_number):
                last.title, last.body, last.created_at = title, body, now
                last.save(update_fields=["title", "body", "created_at"])
                return SaveResult(doc, last, conflict=True, changed=False)
            version = DocumentVersion.objects.create(
                document=doc, number=_next_number(doc), based_on=base_number,
                kind=VersionKind.CONFLICT, title=title, body=body, author=membership.user,
                created_at=now)
            return SaveResult(doc, version, conflict=True, changed=False)
        if title == doc.title and body == doc.body:
            head = DocumentVersion.objects.get(document=doc, number=doc.head_number)
            return SaveResult(doc, head, conflict=False, changed=False)
        version = DocumentVersion.objects.create(
            document=doc, number=_next_number(doc), based_on=base_number, kind=kind, title=title,
            body=body, author=membership.user, created_at=now)
        doc.title, doc.body, doc.head_number, doc.updated_at = title, body, version.number, now
        doc.save(update_fields=["title", "body", "head_number", "updated_at"])
        _reindex(doc.pk)
    return SaveResult(doc, version, conflict=False, changed=True)


def document_restore(*, membership: Membership, document_id: int, number: int) -> DocumentVersion:
    """Make an old version (or a kept conflict copy) the head again, as a new version."""
    _check_write(membership)
    with transaction.atomic():
        doc = (Document.objects.select_for_update()
               .get(pk=document_id, workspace=membership.workspace, deleted_at__isnull=True))
        old = DocumentVersion.objects.get(document=doc, number=number)
        now = timezone.now()
        version = DocumentVersion.objects.create(
            document=doc, number=_next_number(doc), based_on=doc.head_number,
            kind=VersionKind.RESTORE, title=old.title, body=old.body, author=membership.user,
            created_at=now)
        doc.title, doc.body, doc.head_number, doc.updated_at = old.title, old.body, version.number, now
        doc.save(update_fields=["title", "body", "head_number", "updated_at"])
        _reindex(doc.pk)
    return version


def document_trash(*, membership: Membership, document_id: int) -> None:
    _check_write(membership)
    with transaction.atomic():
        doc = Document.objects.filter(pk=document_id, workspace=membership.workspace,
                                      deleted_at__isnull=True).only("pk", "title").first()
        updated = Document.objects.filter(pk=document_id, workspace=membership.workspace,
                                          deleted_at__isnull=True).update(deleted_at=timezone.now())
        if not updated or doc is None:
            raise Document.DoesNotExist
        record(workspace=membership.workspace_id, actor=membership.user, action="document.trashed",
               target=doc, summary=f"moved {doc.title!r} to the trash")
    scopes.invalidate(scopes.documents(membership.workspace_id))
    _reindex(document_id)  # a trashed document is no longer compared against


def document_untrash(*, membership: Membership, document_id: int) -> None:
    _check_write(membership)
    with transaction.atomic():
        doc = Document.objects.filter(pk=document_id, workspace=membership.workspace,
                                      deleted_at__isnull=False).only("pk", "title").first()
        updated = Document.objects.filter(pk=document_id, workspace=membership.workspace,
                                          deleted_at__isnull=False).update(
                                              deleted_at=None, updated_at=timezone.now())
        if not updated or doc is None:
            raise Document.DoesNotExist
        record(workspace=membership.workspace_id, actor=membership.user,
               action="document.restored", target=doc,
               summary=f"restored {doc.title!r} from the trash")
    scopes.invalidate(scopes.documents(membership.workspace_id))
    _reindex(document_id)


def export_document(document: Document, fmt: str) -> tuple[str, str, str]:
    """(content, content type, file extension) for Markdown, HTML or plain text."""
    from django.utils.html import escape, linebreaks

    if fmt == "md":
        return f"# {document.title}\n\n{document.body}\n", "text/markdown; charset=utf-8", "md"
    if fmt == "html":
        html = ("<!doctype html>\n<html><head><meta charset=\"utf-8\">"
                f"<title>{escape(document.title)}</title></head>\n<body>\n"
                f"<h1>{escape(document.title)}</h1>\n{linebreaks(document.body, autoescape=True)}\n"
                "</body></html>\n")
        return html, "text/html; charset=utf-8", "html"
    if fmt == "txt":
        return f"{document.title}\n\n{document.body}\n", "text/plain; charset=utf-8", "txt"
    raise ValueError(f"unknown export format {fmt!r}")
