"""Worker side: nearest passages in PostgreSQL (pgvector HNSW, cosine) and the check itself.

Privacy is enforced here, in the SQL: a search for workspace W reads only rows whose
``workspace_id`` is W, plus global reference rows (``workspace_id IS NULL AND kind =
'reference'``). Another workspace's rows are never matched, counted or loaded; the source texts
shown as evidence are loaded again filtered by W.

Embedding imports torch (``copywriter.ml``): this module imports it only inside functions, and
only workers, management commands and benchmarks call them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from copywriter.documents.models import Document, DocumentVersion
from copywriter.generation.models import Generation, Variant
from copywriter.originality import decision as D
from copywriter.originality import text as T
from copywriter.originality.models import OriginalitySettings, ReferenceItem, SourceKind
from copywriter.originality.report import Candidate, Source, build_report

log = logging.getLogger(__name__)

K = 5  # neighbours per checked passage
# hnsw.ef_search: candidates the index walks per query, recall against speed (bench/originality.py)
EF_SEARCH = settings.ORIGINALITY_EF_SEARCH


# Small batches: the encoder pads a batch to its longest passage, and windows are 2-3x longer
# than sentences (docs/originality.md has what 8 instead of 64 saved, from bench/originality.py).
EMBED_BATCH = 8
RECENT_PASSAGES = 4096  # passage vectors kept for reuse (about 6 MB)


class _Recent:
    """The vectors of the passages embedded last, by text. The worker checks a variant and then
    indexes the same variant when it is stored: the same passages, embedded once (on a CPU the
    second embedding was a fifth of the worker's review time). Bounded; keyed by the embedding
    function too, so a different embedder (a test's) never reads another's vectors."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.owner: Any = None
        self.lock = threading.Lock()

    def embed(self, texts: list[str], fn: Any) -> np.ndarray:
        with self.lock:
            if fn is not self.owner:
                self.vectors.clear()
                self.owner = fn
            known = {t: self.vectors[t] for t in texts if t in self.vectors}
            for t in known:
                self.vectors.move_to_end(t)
        todo = list(dict.fromkeys(t for t in texts if t not in known))
        if todo:
            fresh = fn(todo, batch_size=EMBED_BATCH)
            with self.lock:
                for t, v in zip(todo, fresh, strict=True):
                    known[t] = self.vectors[t] = np.asarray(v, dtype=np.float32)
                while len(self.vectors) > self.size:
                    self.vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([known[t] for t in texts])


_recent = _Recent(RECENT_PASSAGES)


def embed(texts: list[str]) -> np.ndarray:
    """Embeddings for passages (the last ``RECENT_PASSAGES`` kept). ``settings.EMBED_THREADS``
    caps torch's threads for this call only: on a machine whose cores are busy (training), one
    thread embeds faster than two."""
    from copywriter.ml.embeddings import embed as _embed

    threads = settings.EMBED_THREADS
    if threads <= 0:
        return _recent.embed(texts, _embed)
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _recent.embed(texts, _embed)
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class Exclude:
    """The checked text's own source, left out of its own search."""

    document_id: int | None = None
    generation_id: int | None = None
    reference_id: int | None = None


def thresholds_for(workspace_id: int) -> T.Thresholds:
    row = OriginalitySettings.objects.filter(workspace_id=workspace_id).first()
    return row.thresholds if row else T.Thresholds()


def vector_literal(v: Sequence[float]) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in v) + "]"


_NEAREST_SQL = """
SELECT q.i, p.id, p.kind, p.document_id, p.document_version, p.generation_id, p.variant_index,
       p.reference_id, p.start, p."end", 1 - (p.embedding <=> q.v) AS similarity
FROM unnest(%(ids)s::int[], %(vectors)s::vector[]) AS q(i, v)
CROSS JOIN LATERAL (
    SELECT id, kind, document_id, document_version, generation_id, variant_index, reference_id,
           start, "end", embedding
    FROM originality_passage
    WHERE (workspace_id = %(ws)s OR (workspace_id IS NULL AND kind = 'reference')){exclude}
    ORDER BY embedding <=> q.v
    LIMIT %(k)s
) p
"""


def nearest(*, workspace_id: int, vectors: np.ndarray, exclude: Exclude = Exclude(), k: int = K,
            ef_search: int = EF_SEARCH) -> list[tuple[Any, ...]]:
    """The ``k`` nearest passages of each vector, one round trip: (query index, passage id,
    kind, document id, version, generation id, variant index, reference id, start, end,
    similarity)."""
    if not len(vectors):
        return []
    with transaction.atomic(), connection.cursor() as cur:
        # set_config(..., true) lasts until the end of this transaction only. Iterative scans keep walking
        # the graph when the workspace filter drops candidates (pgvector >= 0.8).
        cur.execute("SELECT set_config('hnsw.ef_search', %s, true), "
                    "set_config('hnsw.iterative_scan', 'relaxed_order', true)",
                    [str(int(max(ef_search, k)))])
        exclusions = "".join(
            f"\n      AND {column} IS DISTINCT FROM %({name})s"
            for column, name, value in (("document_id", "doc", exclude.document_id),
                                        ("generation_id", "gen", exclude.generation_id),
                                        ("reference_id", "ref", exclude.reference_id))
            if value is not None)
        cur.execute(_NEAREST_SQL.format(exclude=exclusions), {
            "ids": list(range(len(vectors))), "vectors": [vector_literal(v) for v in vectors],
            "ws": workspace_id, "doc": exclude.document_id, "gen": exclude.generation_id,
            "ref": exclude.reference_id, "k": k})
        return list(cur.fetchall())


@dataclass(frozen=True)
class Brief:
    """What a generated text was written from, so its sources can be weighed by what they are
    (``decision.py``): the same template with the same fields is the requester's own earlier
    draft; a row of the same bulk run is a sibling row."""

    template_id: int
    fields: dict[str, Any]
    bulk_run_id: int | None = None


def bulk_runs_of(generation_ids: set[int]) -> dict[int, int]:
    """The bulk run of each generation that is a bulk row (read through the generation's
    reverse relation: originality does not import the bulk app)."""
    if not generation_ids:
        return {}
    return {g: r for g, r in Generation.objects.filter(pk__in=generation_ids,
                                                       bulk_rows__isnull=False)
            .values_list("pk", "bulk_rows__run_id")}


def _role(brief: Brief | None, template_id: int, fields: dict[str, Any], run_id: int | None) -> str:
    if brief is None:
        return D.FINDING
    if brief.bulk_run_id is not None and run_id == brief.bulk_run_id:
        return D.BULK_ROW
    if template_id == brief.template_id and fields == brief.fields:
        return D.OWN_DRAFT
    return D.FINDING


def _sources(workspace_id: int, rows: list[tuple[Any, ...]],
             brief: Brief | None = None) -> dict[tuple[Any, ...], Source]:
    """Source texts and what the report may say about them, loaded again under the workspace
    filter. Trashed documents are left out (their passages go at the next indexing). With a
    ``brief``, earlier generations get their role (own draft, bulk row, or finding)."""
    doc_keys = {(r[3], r[4]) for r in rows if r[2] == SourceKind.DOCUMENT}
    var_keys = {(r[5], r[6]) for r in rows if r[2] == SourceKind.VARIANT}
    ref_ids = {r[7] for r in rows if r[2] == SourceKind.REFERENCE}
    out: dict[tuple[Any, ...], Source] = {}
    if doc_keys:
        docs = {d.pk: d for d in Document.objects.filter(
            workspace_id=workspace_id, deleted_at__isnull=True, pk__in={d for d, _ in doc_keys})}
        cond = Q()
        for doc_id, number in doc_keys:
            cond |= Q(document_id=doc_id, number=number)
        for v in DocumentVersion.objects.filter(cond, document_id__in=docs.keys()):
            d = docs[v.document_id]
            out[("document", v.document_id, v.number)] = Source(
                f"document:{v.document_id}:{v.number}",
                {"kind": "document", "id": d.pk, "version": v.number, "title": d.title,
                 "current": v.number == d.head_number}, v.body)
    if var_keys:
        cond = Q()
        for gen_id, index in var_keys:
            cond |= Q(generation_id=gen_id, index=index)
        variants = list(Variant.objects.filter(cond, generation__workspace_id=workspace_id)
                        .select_related("generation__template"))
        runs = bulk_runs_of({v.generation_id for v in variants}) if brief else {}
        for var in variants:
            g = var.generation
            out[("variant", g.pk, var.index)] = Source(
                f"variant:{g.pk}:{var.index}",
                {"kind": "variant", "generation_id": g.pk, "index": var.index,
                 "title": f"{g.template.title}, variant {var.index + 1}",
                 "created_at": g.created_at.isoformat()}, var.text,
                _role(brief, g.template_id, g.fields, runs.get(g.pk)))
    if ref_ids:
        for ref in ReferenceItem.objects.filter(Q(workspace_id=workspace_id) | Q(workspace__isnull=True),
                                                pk__in=ref_ids):
            out[("reference", ref.pk)] = Source(
                f"reference:{ref.pk}",
                {"kind": "reference", "id": ref.pk, "title": ref.title, "global": ref.is_global},
                ref.text)
    return out


def _key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    if row[2] == SourceKind.DOCUMENT:
        return ("document", row[3], row[4])
    if row[2] == SourceKind.VARIANT:
        return ("variant", row[5], row[6])
    return ("reference", row[7])


@dataclass(frozen=True)
class CheckItem:
    workspace_id: int
    text: str
    exclude: Exclude = Exclude()
    thresholds: T.Thresholds | None = None
    # Text the requester supplied with this request (a template's field values). A passage of
    # the workspace's own documents or generations that is part of it is the input, not a
    # source the output copied (an SEO rewrite of a document matches that document). Reference
    # texts are always compared: pasting a competitor's page into a field excuses nothing.
    # The decision also discounts word runs the output shares with it (decision.Given).
    given: str = ""
    brief: Brief | None = None  # a generated text: what it was written from


def _squash(text: str) -> str:
    return " ".join(text.lower().split())


def check_texts(items: Sequence[CheckItem], *, k: int = K,
                ef_search: int = EF_SEARCH) -> list[dict[str, Any]]:
    """Reports for several texts; their passages are embedded in one call (the slow part)."""
    started = time.monotonic()
    queries = [T.passages(item.text) for item in items]
    # The requester's input is embedded too (once per distinct input): how close a checked
    # passage is to the brief tells a stated fact from a borrowed sentence (decision.py).
    inputs = sorted({item.given for item in items if item.given.strip()})
    given_passages = {g: [p.text for p in T.passages(g)] for g in inputs}
    flat = [p.text for q in queries for p in q] + [p for g in inputs for p in given_passages[g]]
    vectors = embed(flat) if flat else np.zeros((0, 384), np.float32)
    given_vectors: dict[str, np.ndarray] = {}
    offset = sum(len(q) for q in queries)
    for g in inputs:
        given_vectors[g] = vectors[offset:offset + len(given_passages[g])]
        offset += len(given_passages[g])
    reports: list[dict[str, Any]] = []
    offset = 0
    for item, query in zip(items, queries, strict=True):
        vecs = vectors[offset:offset + len(query)]
        offset += len(query)
        rows = nearest(workspace_id=item.workspace_id, vectors=vecs, exclude=item.exclude, k=k,
                       ef_search=ef_search)
        sources = _sources(item.workspace_id, rows, item.brief)
        candidates = []
        given = _squash(item.given)
        for r in rows:
            src = sources.get(_key(r))
            if src is None or r[9] > len(src.text):
                continue  # trashed, deleted or re-indexed since: not evidence any more
            if given and r[2] != SourceKind.REFERENCE and _squash(src.text[r[8]:r[9]]) in given:
                continue
            candidates.append(Candidate(r[0], src, r[8], r[9], float(r[10])))
        thresholds = item.thresholds or thresholds_for(item.workspace_id)
        topic = D.topic_scores(vecs, given_vectors.get(item.given, np.zeros((0, 384), np.float32)))
        report = build_report(item.text, query, candidates, thresholds, given=item.given,
                              topic=topic)
        reports.append(report)
    elapsed = time.monotonic() - started
    for report in reports:
        report["seconds"] = round(elapsed / max(1, len(reports)), 3)
    return reports


def check_text(*, workspace_id: int, text: str, exclude: Exclude = Exclude(),
               thresholds: T.Thresholds | None = None) -> dict[str, Any]:
    return check_texts([CheckItem(workspace_id, text, exclude, thresholds)])[0]
