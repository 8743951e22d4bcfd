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

from copywriter.originality import text as T
from copywriter.originality.models import Passage, ReferenceItem, SourceKind

log = logging.getLogger(__name__)


def _vectors(texts: list[str], known: dict[str, Any]) -> list[Any]:
    """Embeddings for ``texts``, reusing ``known`` ones (same passage text, same vector)."""
    from copywriter.originality.search import embed

    todo = sorted({t for t in texts if t not in known})
    if todo:
        fresh = embed(todo)
        known = {**known, **dict(zip(todo, fresh, strict=True))}
    return [np.asarray(known[t], dtype=np.float32) for t in texts]


def _known(qs: Any) -> dict[str, Any]:
    return {text: vec for text, vec in qs.values_list("text", "embedding")}


def passages_for(text: str, **fields: Any) -> list[Passage]:
    ps = T.passages(text)
    return [Passage(start=p.start, end=p.end, text=p.text, **fields) for p in ps]


def index_document(document_id: int) -> str:
    """The current text of a non-trashed document; a trashed or deleted one loses its rows."""
    from copywriter.documents.models import Document

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
    for p, v in zip(new, _vectors([p.text for p in new], _known(rows)), strict=True):
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
    from copywriter.generation.models import Generation, Status

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


def index_reference(reference_id: int) -> str:
    ref = ReferenceItem.objects.filter(pk=reference_id).first()
    rows = Passage.objects.filter(kind=SourceKind.REFERENCE, reference_id=reference_id)
    if ref is None:
        rows.delete()
        return "removed"
    stamp = ref.updated_at
    new = passages_for(ref.text, workspace_id=ref.workspace_id, kind=SourceKind.REFERENCE,
                       reference_id=ref.pk)
    for p, vec in zip(new, _vectors([p.text for p in new], _known(rows)), strict=True):
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
