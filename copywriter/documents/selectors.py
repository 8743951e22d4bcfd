from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.db.models.functions import Substr
from django.shortcuts import get_object_or_404

from copywriter.core.diff import bounded_opcodes
from copywriter.documents.models import Document, DocumentVersion

SORTS = {
    "updated": "-updated_at",
    "created": "-created_at",
    "title": "title",
}


def documents_for_workspace(*, workspace_id: int, q: str = "", sort: str = "updated",
                            trashed: bool = False, excerpt_chars: int = 0) -> QuerySet[Document]:
    """``excerpt_chars``: leave the body in the database and bring only its start as
    ``excerpt`` (a list of 200 long documents would otherwise read megabytes)."""
    qs = Document.objects.filter(workspace_id=workspace_id, deleted_at__isnull=not trashed)
    q = q.strip()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(body__icontains=q))
    if excerpt_chars:
        qs = qs.defer("body").annotate(excerpt=Substr("body", 1, excerpt_chars))
    return qs.order_by(SORTS.get(sort, "-updated_at"), "-pk").select_related("created_by")


def document_get(*, workspace_id: int, document_id: int, trashed: bool | None = False) -> Document:
    """The document if it belongs to the workspace (404 otherwise, also for another's ids)."""
    filters: dict[str, object] = {"workspace_id": workspace_id, "pk": document_id}
    if trashed is not None:
        filters["deleted_at__isnull"] = not trashed
    return get_object_or_404(Document, **filters)


def version_get(*, document: Document, number: int) -> DocumentVersion:
    return get_object_or_404(DocumentVersion, document=document, number=number)


def head_version(*, document: Document) -> DocumentVersion:
    return DocumentVersion.objects.get(document=document, number=document.head_number)


@dataclass(frozen=True)
class DiffLine:
    op: str  # "same", "add", "del"
    text: str


MAX_DIFF_LINES = 2000  # a page of 60,000 diff lines took seconds to render
CONTEXT_LINES = 3


def line_diff(old: str, new: str) -> list[DiffLine]:
    """A line diff for templates to render (escaped there like any other text). When the changed
    part is too large to compare line by line (``bounded_opcodes``), it is shown removed and
    added whole after a "note" line saying so."""
    a, b = old.splitlines(), new.splitlines()
    out: list[DiffLine] = []
    opcodes, exact = bounded_opcodes(a, b)
    collapse = len(a) + len(b) > MAX_DIFF_LINES  # long texts: unchanged runs shortened
    if not exact:
        out.append(DiffLine("note", "The changed part is too long to compare line by line: it "
                                    "is shown whole, as removed and added."))
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            if collapse and i2 - i1 > 2 * CONTEXT_LINES + 1:
                out.extend(DiffLine("same", line) for line in a[i1:i1 + CONTEXT_LINES])
                out.append(DiffLine("note", f"\u2026 {i2 - i1 - 2 * CONTEXT_LINES:,} unchanged "
                                            "lines \u2026"))
                out.extend(DiffLine("same", line) for line in a[i2 - CONTEXT_LINES:i2])
            else:
                out.extend(DiffLine("same", line) for line in a[i1:i2])
            continue
        out.extend(DiffLine("del", line) for line in a[i1:i2])
        out.extend(DiffLine("add", line) for line in b[j1:j2])
    if len(out) > MAX_DIFF_LINES:
        more = len(out) - MAX_DIFF_LINES
        out = out[:MAX_DIFF_LINES] + [DiffLine("note", f"\u2026 and {more:,} more lines of the "
                                                       "diff, not shown; open the versions to "
                                                       "read them whole.")]
    return out
