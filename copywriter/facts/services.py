"""Writing fact sheets, and what generation takes from them: the snapshot it stores and the
block of text the writer is given. Safe in the web process: embeddings are computed by the
``facts.*`` tasks on a worker (torch), enqueued at the lowest priority, by id, on commit."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from copywriter.accounts.services import reject_control_characters
from copywriter.audit.services import record
from copywriter.core.counters import bump
from copywriter.core.errors import UserError
from copywriter.facts.models import FactSheet, FactSheetVersion, Kind
from copywriter.workspaces.decorators import require_writer
from copywriter.workspaces.models import Membership, Workspace

log = logging.getLogger(__name__)

NAME_MAX_CHARS = 120
# The most sheets one generation may name, and the most characters of facts given to the writer
# (the block goes into every variant's prompt; the rest of the prompt is capped at 50,000).
SHEETS_PER_GENERATION = 10
PROMPT_BLOCK_MAX_CHARS = 2_000
# The broker's lowest priority (Redis: 0 first, 9 last), as originality's LOW_PRIORITY: a flood
# of embeddings waits behind the generations in the same queue.
LOW_PRIORITY = 9
QUERY_VECTOR_SECONDS = 3600
# Briefs a workspace may have embedded for suggestions each minute (each form change can ask for
# one); past it, suggestions rank by shared words until the next minute.
QUERY_EMBEDS_PER_MINUTE = 30


class FactsError(UserError):
    """``field_errors`` name the form fields at fault."""


class StaleEdit(FactsError):
    """A save based on a version that is no longer the latest. Nothing was stored."""

    def __init__(self, message: str, *, head_number: int):
        super().__init__(message, status=409)
        self.head_number = head_number


@dataclass(frozen=True)
class Lines:
    facts: list[str]
    approved: list[str]
    banned: list[str]


LISTS = (("facts", "Facts"), ("approved", "Approved claims"), ("banned", "Banned claims"))


def split_lines(value: str | Iterable[str]) -> list[str]:
    """One item a line (text from a form) or a list of items (the API); blank ones dropped, the
    rest stripped, duplicates dropped (first kept)."""
    if isinstance(value, str):
        items: Iterable[str] = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    else:
        items = value
    seen: dict[str, None] = {}
    for item in items:
        if not isinstance(item, str):
            raise FactsError("Each fact and claim must be text.")
        item = item.strip()
        if item:
            seen.setdefault(item, None)
    return list(seen)


def _check_lines(raw: dict[str, str | Iterable[str]]) -> Lines:
    errors: dict[str, str] = {}
    out: dict[str, list[str]] = {}
    for key, label in LISTS:
        lines = split_lines(raw.get(key) or [])
        out[key] = lines
        if len(lines) > settings.FACTS_PER_SHEET:
            errors[key] = (f"{label}: {len(lines)} lines; a sheet holds at most "
                           f"{settings.FACTS_PER_SHEET}. Split it into two sheets.")
            continue
        for number, line in enumerate(lines, 1):
            if len(line) > settings.FACT_MAX_CHARS:
                errors[key] = (f"{label}, line {number}: {len(line):,} characters; the limit is "
                               f"{settings.FACT_MAX_CHARS} a line. Write one fact a line.")
                break
            try:
                reject_control_characters(line)
            except ValidationError:
                errors[key] = (f"{label}, line {number}: tabs and other control characters "
                               "cannot be stored; type plain text, one item a line.")
                break
    if errors:
        raise FactsError("Some lines need attention.", field_errors=errors)
    return Lines(out["facts"], out["approved"], out["banned"])


def _check_name(name: str, kind: str) -> tuple[str, str]:
    if not isinstance(name, str) or not name.strip():
        raise FactsError("Give the sheet a name (the product or brand).",
                         field_errors={"name": "Required."})
    name = name.strip()
    try:
        reject_control_characters(name)
    except ValidationError as exc:
        raise FactsError(exc.messages[0], field_errors={"name": exc.messages[0]}) from None
    if len(name) > NAME_MAX_CHARS:
        raise FactsError(f"The name is {len(name)} characters long; the limit is "
                         f"{NAME_MAX_CHARS}.", field_errors={"name": "Too long."})
    if kind not in Kind.values:
        raise FactsError(f"Kind must be one of: {', '.join(Kind.values)}.",
                         field_errors={"kind": "Choose product or brand."})
    return name, kind


def _check_write(membership: Membership) -> None:
    require_writer(membership, FactsError(
        "Viewers cannot change fact sheets; ask an owner for the editor role.", status=403))


def _check_room(workspace_id: int) -> None:
    live = FactSheet.objects.filter(workspace_id=workspace_id, archived=False).count()
    if live >= settings.FACT_SHEETS_PER_WORKSPACE:
        raise FactsError(f"This workspace has {live} fact sheets, the most it can keep "
                         f"({settings.FACT_SHEETS_PER_WORKSPACE}). Archive one you no longer use.")


def fact_sheet_create(*, membership: Membership, name: str, kind: str = Kind.PRODUCT,
                      facts: str | Iterable[str] = (), approved: str | Iterable[str] = (),
                      banned: str | Iterable[str] = ()) -> FactSheet:
    """A new sheet and its version 1. Everything is checked before anything is stored."""
    _check_write(membership)
    name, kind = _check_name(name, kind)
    lines = _check_lines({"facts": facts, "approved": approved, "banned": banned})
    now = timezone.now()
    with transaction.atomic():
        # Serialise one workspace's creations, so two at once cannot both pass the count.
        Workspace.objects.select_for_update().filter(pk=membership.workspace_id).first()
        _check_room(membership.workspace_id)
        sheet = FactSheet.objects.create(workspace=membership.workspace, name=name, kind=kind,
                                         head_number=1, created_by=membership.user,
                                         created_at=now, updated_at=now)
        version = FactSheetVersion.objects.create(
            sheet=sheet, number=1, name=name, kind=kind, facts=lines.facts,
            approved=lines.approved, banned=lines.banned, author=membership.user, created_at=now)
        _embed_later(version.pk)
    return sheet


def fact_sheet_save(*, membership: Membership, sheet_id: int, base_number: int, name: str,
                    kind: str, facts: str | Iterable[str], approved: str | Iterable[str],
                    banned: str | Iterable[str]) -> FactSheetVersion:
    """A new version on top of ``base_number``, which must be the latest: a save on top of an
    older one (someone saved meanwhile) raises ``StaleEdit`` and stores nothing, so the caller
    shows the user their text again with the latest version to compare. A save that changes
    nothing returns the latest version as is."""
    _check_write(membership)
    name, kind = _check_name(name, kind)
    lines = _check_lines({"facts": facts, "approved": approved, "banned": banned})
    with transaction.atomic():
        sheet = (FactSheet.objects.select_for_update()
                 .filter(pk=sheet_id, workspace_id=membership.workspace_id).first())
        if sheet is None:
            raise FactsError("No such fact sheet in this workspace.", status=404)
        if sheet.archived:
            raise FactsError("This fact sheet is archived; restore it to edit it.", status=409)
        if base_number != sheet.head_number:
            raise StaleEdit(
                f"Someone saved version {sheet.head_number} of \u201c{sheet.name}\u201d after "
                f"the version {base_number} you edited. Nothing was saved: your text is still "
                "in the form. Compare it with the latest version, then save again.",
                head_number=sheet.head_number)
        head = FactSheetVersion.objects.get(sheet=sheet, number=sheet.head_number)
        if (head.name, head.kind, head.facts, head.approved, head.banned) == (
                name, kind, lines.facts, lines.approved, lines.banned):
            return head
        now = timezone.now()
        version = FactSheetVersion.objects.create(
            sheet=sheet, number=sheet.head_number + 1, based_on=base_number, name=name, kind=kind,
            facts=lines.facts, approved=lines.approved, banned=lines.banned,
            author=membership.user, created_at=now)
        sheet.name, sheet.kind, sheet.head_number, sheet.updated_at = name, kind, version.number, now
        sheet.save(update_fields=["name", "kind", "head_number", "updated_at"])
        _embed_later(version.pk)
    return version


def fact_sheet_archive(*, membership: Membership, sheet_id: int,
                       archived: bool = True) -> FactSheet:
    """Archived sheets are not offered to generate with and take no place in the workspace's
    count; generations made with them keep their snapshot. Restoring one needs a free place."""
    _check_write(membership)
    with transaction.atomic():
        sheet = (FactSheet.objects.select_for_update()
                 .filter(pk=sheet_id, workspace_id=membership.workspace_id).first())
        if sheet is None:
            raise FactsError("No such fact sheet in this workspace.", status=404)
        if sheet.archived != archived:
            if not archived:
                _check_room(membership.workspace_id)
            sheet.archived, sheet.updated_at = archived, timezone.now()
            sheet.save(update_fields=["archived", "updated_at"])
            record(workspace=membership.workspace_id, actor=membership.user,
                   action="fact_sheet.archived" if archived else "fact_sheet.unarchived",
                   target=sheet, summary=(f"archived the fact sheet {sheet.name!r}" if archived
                                          else f"brought back the fact sheet {sheet.name!r}"))
    return sheet


# --- what a generation takes -------------------------------------------------------------------

def versions_for_generation(*, workspace_id: int,
                            sheet_ids: Sequence[int | str]) -> list[FactSheetVersion]:
    """The latest versions of the named sheets, in the order named. An id that is not a live
    sheet of this workspace (another workspace's, archived, unknown) is refused: generating
    without facts the user asked for would be worse than not generating."""
    ids: list[int] = []
    for raw in sheet_ids:
        if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit():
            raise FactsError(f"Fact sheet ids are numbers; got {str(raw)[:40]!r}.",
                             field_errors={"fact_sheets": "Not a fact sheet id."})
        if int(raw) not in ids:
            ids.append(int(raw))
    if len(ids) > SHEETS_PER_GENERATION:
        raise FactsError(f"{len(ids)} fact sheets named; a generation takes at most "
                         f"{SHEETS_PER_GENERATION}.", field_errors={"fact_sheets": "Too many."})
    if not ids:
        return []
    sheets = {s.pk: s for s in FactSheet.objects.filter(pk__in=ids, workspace_id=workspace_id)}
    missing = [i for i in ids if i not in sheets]
    if missing:
        raise FactsError(f"No fact sheet {', '.join(map(str, missing))} in this workspace.",
                         status=400, field_errors={"fact_sheets": "Choose sheets from the list."})
    archived = [sheets[i].name for i in ids if sheets[i].archived]
    if archived:
        raise FactsError(f"Archived fact sheets cannot be used: {', '.join(archived)}. Restore "
                         "them first.", field_errors={"fact_sheets": "Archived."})
    heads = {(v.sheet_id, v.number): v for v in FactSheetVersion.objects.filter(
        sheet_id__in=ids).filter(number__in={s.head_number for s in sheets.values()})
        .select_related("sheet").defer("embedding")}
    return [heads[(i, sheets[i].head_number)] for i in ids]


def snapshot(versions: Sequence[FactSheetVersion]) -> dict[str, Any]:
    """What ``Generation.facts`` stores: which versions were used, and their lines merged in
    order (a line two sheets share appears once). Empty sheets list: ``{}`` (the brief alone)."""
    if not versions:
        return {}
    merged: dict[str, dict[str, None]] = {"facts": {}, "approved": {}, "banned": {}}
    for v in versions:
        for key in merged:
            for line in getattr(v, key):
                merged[key].setdefault(line, None)
    return {"sheets": [{"id": v.sheet_id, "version": v.number, "name": v.name} for v in versions],
            **{key: list(lines) for key, lines in merged.items()}}


def _items(lines: Iterable[str]) -> list[str]:
    # "Waterproof." + "; " would read ".;": items end without their own full stop.
    return [" ".join(str(line).split()).rstrip(" .;") for line in lines]


def prompt_block(snap: dict[str, Any], *, max_chars: int = PROMPT_BLOCK_MAX_CHARS) -> str:
    """The facts as the writer reads them, compactly, at most ``max_chars`` characters:
    "Facts: a; b. You may claim: c. Do not claim: x; y." Past the cap whole items are left out,
    banned claims kept first (a missing fact costs detail; a missing ban can cost a false
    claim), then facts, then approved claims. Empty snapshot: ""."""
    labels = (("facts", "Facts: "), ("approved", "You may claim: "), ("banned", "Do not claim: "))
    lists = {key: [i for i in _items(snap.get(key) or []) if i] for key, _ in labels}
    kept: dict[str, list[str]] = {key: [] for key, _ in labels}
    used = 0
    for key in ("banned", "facts", "approved"):
        label = dict(labels)[key]
        for item in lists[key]:
            cost = len(item) + (len(label) + 2 if not kept[key] else 2)  # "; " or label and ". "
            if used + cost > max_chars:
                break
            kept[key].append(item)
            used += cost
    return " ".join(f"{label}{'; '.join(kept[key])}." for key, label in labels if kept[key])


# --- suggestions -------------------------------------------------------------------------------

def _embed_later(version_id: int) -> None:
    transaction.on_commit(lambda: _enqueue("embed_version", version_id))


def _enqueue(task_name: str, *args: Any) -> None:
    """A broker that is down must not fail the user's save: the sheet is suggested once a later
    save (or ``manage.py`` shell) embeds it; until then suggestions skip it."""
    from copywriter.facts import tasks

    try:
        getattr(tasks, task_name).apply_async(
            args=list(args), priority=LOW_PRIORITY, retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2})
    except Exception:  # the broker's errors are many; none may break the request
        log.warning("could not enqueue facts.%s%s", task_name, args, exc_info=True)


def query_key(workspace_id: int, text: str) -> str:
    """Cache key part for a brief's vector; it names the workspace, so one workspace's entry
    never answers (nor confirms a guess of) another's text."""
    return f"{workspace_id}:{hashlib.sha256(text.encode('utf-8', 'replace')).hexdigest()}"


BRIEF_MAX_CHARS = 4_000


@dataclass(frozen=True)
class Suggestions:
    sheets: list[FactSheet]
    method: str  # "vectors": nearest embeddings; "words": shared words while the brief is embedded


def suggest(*, workspace_id: int, text: str, k: int = 3,
            vector: Sequence[float] | None = None) -> Suggestions:
    """The ``k`` live sheets whose latest version is nearest the brief ``text``.

    Nearest by cosine distance of the embeddings (pgvector) when the brief's vector is known:
    given, or computed earlier by a worker (``facts.embed_query``; asked for here when it is
    not). Sheets whose latest version is not embedded yet are skipped. While the brief's vector
    is being computed, sheets are ranked by the words they share with the brief, so the form has
    something to offer at once."""
    text = " ".join(text.split())[:BRIEF_MAX_CHARS]
    if not text:
        return Suggestions([], "words")
    if vector is None:
        key = query_key(workspace_id, text)
        try:
            vector = cache.get(f"facts-query-vec:{key}")
            if (vector is None and cache.add(f"facts-query-pending:{key}", 1, timeout=60)
                    and bump(f"facts-query-rate:{workspace_id}:{timezone.now():%Y%m%d%H%M}",
                             timeout=120) <= QUERY_EMBEDS_PER_MINUTE):
                cache.set(f"facts-query-in:{key}", text, timeout=300)
                _enqueue("embed_query", key)
        except Exception:  # no cache: words only
            log.warning("cache unavailable for fact-sheet suggestions", exc_info=True)
    if vector is not None:
        return Suggestions(_nearest(workspace_id, vector, k), "vectors")
    return Suggestions(_by_words(workspace_id, text, k), "words")


def _live_heads(workspace_id: int) -> Any:
    from django.db.models import F

    return FactSheetVersion.objects.filter(sheet__workspace_id=workspace_id,
                                           sheet__archived=False, number=F("sheet__head_number"))


def _nearest(workspace_id: int, vector: Sequence[float], k: int) -> list[FactSheet]:
    from pgvector.django import CosineDistance

    heads = (_live_heads(workspace_id).filter(embedding__isnull=False)
             .annotate(distance=CosineDistance("embedding", list(vector)))
             .order_by("distance", "sheet_id").select_related("sheet")[:k])
    return [v.sheet for v in heads]


WORD_RE = re.compile(r"\w{3,}")


def _by_words(workspace_id: int, text: str, k: int) -> list[FactSheet]:
    brief = {w.lower() for w in WORD_RE.findall(text)}
    scored = []
    for v in _live_heads(workspace_id).select_related("sheet").defer("embedding")[:500]:
        words = {w.lower() for w in WORD_RE.findall(v.text_for_embedding())}
        shared = len(brief & words)
        if shared:
            scored.append((-shared, v.sheet.name.lower(), v.sheet))
    return [sheet for *_, sheet in sorted(scored, key=lambda t: t[:2])[:k]]


# --- worker side -------------------------------------------------------------------------------

def version_embed(*, version_id: int) -> str:
    """Embed one version (worker: loads the embedding model). Idempotent: an embedded version
    is left alone; an older one than the sheet's latest is skipped (never suggested)."""
    version = FactSheetVersion.objects.select_related("sheet").filter(pk=version_id).first()
    if version is None:
        return "gone"
    if version.embedding is not None:
        return "done"
    if version.number != version.sheet.head_number:
        return "stale"
    from copywriter.ml.embeddings import embed

    vector = embed([version.text_for_embedding()])[0]
    FactSheetVersion.objects.filter(pk=version_id).update(embedding=[float(x) for x in vector])
    return "embedded"


def query_embed(*, key: str) -> str:
    """Embed a brief for ``suggest`` (worker). Inputs and the answer live in the cache."""
    if cache.get(f"facts-query-vec:{key}") is not None:
        return "done"
    text = cache.get(f"facts-query-in:{key}")
    if text is None:
        return "expired"
    from copywriter.ml.embeddings import embed

    vector = embed([text])[0]
    cache.set(f"facts-query-vec:{key}", [float(x) for x in vector], timeout=QUERY_VECTOR_SECONDS)
    return "embedded"
