"""Worker side: keep the passages of documents, variants and reference items up to date.

Every function is idempotent (tasks are redelivered after a killed worker): it computes the
passages of the source's current text, reuses the embeddings of passages whose text did not
change, and replaces the source's rows in one transaction. Two runs at once end with one set.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from copywriter.documents.models import Document
from copywriter.generation.models import Generation, Status
from copywriter.originality import text as T
from copywriter.originality.models import Passage, ReferenceItem, SourceKind

log = logging.getLogger(__name__)


class IndexBudgetSpent(Exception):
    """The workspace embedded its ``ORIGINALITY_INDEX_CHARS_PER_DAY`` for today."""


def _vectors(texts: list[str], known: dict[str, Any], *,
             budget_workspace_id: int | None = None) -> list[Any]:
    """Embeddings for ``texts``, reusing ``known`` ones (same passage text, same vector).
    ``budget_workspace_id``: the characters to embed are paid from that workspace's daily index
    budget first (only new passages cost: an edit pays for what it changed)."""
    from copywriter.originality.search import embed

    todo = sorted({t for t in texts if t not in known})
    if todo and budget_workspace_id is not None:
        from copywriter.originality.services import index_budget_spend

        if not index_budget_spend(workspace_id=budget_workspace_id,
                                  chars=sum(len(t) for t in todo)):
            raise IndexBudgetSpent
    if todo:
        fresh = embed(todo)
        known = {**known, **dict(zip(todo, fresh, strict=True))}
    return [np.asarray(known[t], dtype=np.float32) for t in texts]


def _known(qs: Any) -> dict[str, Any]:
    return {text: vec for text, vec in qs.values_list("text", "embedding")}


def passages_for(text: str, **fields: Any) -> list[Passage]:
    ps = T.passages(text)
    return [Passage(start=p.start, end=p.end, text=p.text, **fields) for p in ps]


def index_document(document_id: int, *, budgeted: bool = True) -> str:
    """The current text of a non-trashed document; a trashed or deleted one loses its rows.
    ``budgeted``: paid from the workspace's index budget (tasks); an operator's command is not."""
    doc = Document.objects.filter(pk=document_id).first()
    rows = Passage.objects.filter(kind=SourceKind.DOCUMENT, document_id=document_id)
    if doc is None or doc.deleted_at is not None:
        rows.delete()
        return "removed"
    indexed = set(rows.values_list("document_version", flat=True).distinct())
    if indexed == {doc.head_number} or (not indexed and not T.passages(doc.body)):
        return "unchanged"
    version, body = doc.head_number, doc.body
    new = passages_for(body, workspace_id=doc.workspace_id, kind=SourceKind.DOCUMENT,
                       document_id=doc.pk, document_version=version)
    try:
        vectors = _vectors([p.text for p in new], _known(rows),
                           budget_workspace_id=doc.workspace_id if budgeted else None)
    except IndexBudgetSpent:
        # The old passages stay; the next save after midnight UTC, or reindex_originality,
        # brings the index up to date. Only this workspace's own checks see the older text.
        log.info("document %s not indexed: workspace %s spent its index budget", doc.pk,
                 doc.workspace_id)
        return "over budget"
    for p, v in zip(new, vectors, strict=True):
        p.embedding = v
    with transaction.atomic():
        locked = Document.objects.select_for_update().filter(pk=document_id).first()
        if locked is None or locked.deleted_at is not None:
            rows.delete()
            return "removed"
        if locked.head_number != version:
            return "stale"  # saved again meanwhile: that save's task indexes the newer text
        rows.delete()
        Passage.objects.bulk_create(new, batch_size=500)
    return f"indexed {len(new)}"


def index_generation(generation_id: int) -> str:
    """A finished generation's variants, as they are now."""
    gen = Generation.objects.filter(pk=generation_id).first()
    rows = Passage.objects.filter(kind=SourceKind.VARIANT, generation_id=generation_id)
    if gen is None or gen.status != Status.DONE:
        rows.delete()
        return "removed"
    new: list[Passage] = []
    for v in gen.results.filter(finished=True):
        new.extend(passages_for(v.text, workspace_id=gen.workspace_id, kind=SourceKind.VARIANT,
                                generation_id=gen.pk, variant_index=v.index))
    for p, vec in zip(new, _vectors([p.text for p in new], _known(rows)), strict=True):
        p.embedding = vec
    with transaction.atomic():
        rows.delete()
        Passage.objects.bulk_create(new, batch_size=500)
    return f"indexed {len(new)}"


def index_reference(reference_id: int, *, budgeted: bool = True) -> str:
    ref = ReferenceItem.objects.filter(pk=reference_id).first()
    rows = Passage.objects.filter(kind=SourceKind.REFERENCE, reference_id=reference_id)
    if ref is None:
        rows.delete()
        return "removed"
    stamp = ref.updated_at
    new = passages_for(ref.text, workspace_id=ref.workspace_id, kind=SourceKind.REFERENCE,
                       reference_id=ref.pk)
    try:  # a workspace's references are paid from its index budget; global ones are not
        vectors = _vectors([p.text for p in new], _known(rows),
                           budget_workspace_id=ref.workspace_id if budgeted else None)
    except IndexBudgetSpent:
        ReferenceItem.objects.filter(pk=reference_id).update(
            index_error="Not indexed yet: this workspace indexed its characters for today "
                        "(ORIGINALITY_INDEX_CHARS_PER_DAY); it will be after midnight UTC when "
                        "saved again, or with manage.py reindex_originality.")
        return "over budget"
    for p, vec in zip(new, vectors, strict=True):
        p.embedding = vec
    with transaction.atomic():
        locked = ReferenceItem.objects.select_for_update().filter(pk=reference_id).first()
        if locked is None:
            return "removed"
        if locked.updated_at != stamp:
            return "stale"
        rows.delete()
        Passage.objects.bulk_create(new, batch_size=500)
        ReferenceItem.objects.filter(pk=reference_id).update(indexed_at=timezone.now(),
                                                             index_error="")
    return f"indexed {len(new)}"
