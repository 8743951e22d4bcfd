"""Web side of the originality check: everything here is safe in the web process (no torch).
Embedding work is enqueued as ``originality.*`` tasks by id, on commit."""

from __future__ import annotations

import contextlib
import logging
from pathlib import PurePath

from django.conf import settings as conf
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from copywriter.audit.services import record
from copywriter.core.counters import bump, seconds_to_next_minute
from copywriter.core.errors import UserError
from copywriter.documents.models import Document
from copywriter.originality.models import (
    CheckStatus,
    OriginalityCheck,
    OriginalitySettings,
    ReferenceItem,
    Regenerate,
)
from copywriter.originality.text import Thresholds
from copywriter.workspaces.decorators import require_writer
from copywriter.workspaces.models import Membership, Workspace

log = logging.getLogger(__name__)

REFERENCE_MAX_CHARS = 200_000
REFERENCE_EXTENSIONS = (".txt", ".md", ".markdown")
MAX_UPLOAD_BYTES = 2_000_000
CHECKS_PER_MINUTE = 20
INDEX_DEBOUNCE_SECONDS = 5
MAX_REGENERATIONS = 3
# Originality tasks are sent at the broker's lowest priority (Redis: 0 is first, 9 last), so a
# flood of checks and index jobs waits behind the generations in the same queue.
LOW_PRIORITY = 9


class OriginalityError(UserError):
    pass


def _enqueue(task_name: str, *args: int, countdown: float = 0) -> None:
    """A broker that is down must not fail the user's request: indexing catches up at the
    next save, or with ``manage.py reindex_originality``."""
    from copywriter.originality import tasks

    try:
        getattr(tasks, task_name).apply_async(
            args=list(args), countdown=countdown, priority=LOW_PRIORITY, retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2})
    except Exception:  # the broker's errors are many; none may break the request
        log.warning("could not enqueue %s%s", task_name, args, exc_info=True)


def _send(task_name: str, *args: int) -> None:
    """Enqueue by id once the current transaction commits."""
    transaction.on_commit(lambda: _enqueue(task_name, *args))


# --- budgets, in characters -------------------------------------------------------------------

def _day_key(kind: str, scope: str, ident: int) -> str:
    return f"orig-chars:{kind}:{scope}:{ident}:{timezone.now():%Y%m%d}"


def _spend(key: str, chars: int, budget: int) -> int | None:
    """Take ``chars`` from today's ``budget`` under ``key`` (one atomic increment, so requests
    at once cannot overshoot it together); None if it was spent, else what is left."""
    cache.add(key, 0, timeout=2 * 86400)
    try:
        total = int(cache.incr(key, chars))
    except ValueError:  # evicted between add and incr
        cache.set(key, chars, timeout=2 * 86400)
        total = chars
    if total > budget:
        _give_back(key, chars)  # a refused request costs nothing
        return None
    return budget - total


def _give_back(key: str, chars: int) -> None:
    with contextlib.suppress(ValueError):  # evicted meanwhile: nothing to give back to
        cache.decr(key, chars)


def index_budget_spend(*, workspace_id: int, chars: int) -> bool:
    """Worker side: may this workspace's index embed ``chars`` more characters today? Called
    with the characters that are new to embed (unchanged passages are reused for free)."""
    try:
        return _spend(_day_key("index", "ws", workspace_id), chars,
                      conf.ORIGINALITY_INDEX_CHARS_PER_DAY) is not None
    except Exception:  # the cache is down: index, as the debounce does
        log.warning("cache unavailable for the index budget", exc_info=True)
        return True


# --- indexing hooks ---------------------------------------------------------------------------

def schedule_document_index(*, document_id: int) -> None:
    """Called on documents' ``document_changed``: every create, save, restore, trash and untrash.

    Autosave saves every few seconds while someone types: one task per document per
    ``INDEX_DEBOUNCE_SECONDS``, delayed by as much, indexes whatever the head is when it runs.
    The key lives a second less than the delay, so a save after the task started always
    schedules another one.
    """
    def after_commit() -> None:
        try:
            first = cache.add(f"orig-index-doc:{document_id}", 1, timeout=INDEX_DEBOUNCE_SECONDS - 1)
        except Exception:  # no cache, no debounce: index anyway
            log.warning("cache unavailable for the indexing debounce", exc_info=True)
            first = True
        if first:
            _enqueue("index_document", document_id, countdown=INDEX_DEBOUNCE_SECONDS)

    transaction.on_commit(after_commit)


# --- reference corpus -------------------------------------------------------------------------

def _check_write(membership: Membership) -> None:
    require_writer(membership, OriginalityError(
        "Viewers cannot change the reference texts; ask an owner for the editor role.", status=403))


def clean_reference(title: str, text: str, *, name: str = "") -> tuple[str, str]:
    # NUL cannot be stored in PostgreSQL text and is never typed: drop it rather than fail.
    text = (text or "").replace("\r\n", "\n").replace("\x00", "").strip()
    title = (title or "").replace("\x00", "").strip()
    if not text:
        raise OriginalityError(f"{name or 'The text'} is empty: paste some text or upload a "
                               ".txt or .md file.")
    if len(text) > REFERENCE_MAX_CHARS:
        raise OriginalityError(f"{name or 'The text'} is {len(text):,} characters long; the limit "
                               f"is {REFERENCE_MAX_CHARS:,}. Split it into several texts.")
    if not title:
        first = text.splitlines()[0].lstrip("#").strip()
        title = (first[:80] + "\u2026") if len(first) > 80 else first
    return title[:200], text


def decode_upload(name: str, data: bytes) -> str:
    """The text of an uploaded or imported file, or a message saying what is wrong with it."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in REFERENCE_EXTENSIONS:
        raise OriginalityError(f"{name}: only .txt and .md files can be loaded (this is "
                               f"{suffix or 'a file without an extension'}).")
    if len(data) > MAX_UPLOAD_BYTES:
        raise OriginalityError(f"{name} is over 2 MB; split it into smaller files.", status=413)
    if b"\x00" in data[:4096]:
        raise OriginalityError(f"{name} is not a text file.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise OriginalityError(f"{name} is not UTF-8 text: save it as UTF-8 and upload it "
                               "again.") from None


def reference_create(*, workspace: Workspace | None, title: str, text: str,
                     membership: Membership | None = None, source_name: str = "") -> ReferenceItem:
    """A workspace's reference text (``membership`` must be able to write), or a global one
    (``workspace=None``, management commands only). A ``source_name`` seen before updates that
    item instead of adding a second copy."""
    if membership is not None:
        _check_write(membership)
    title, text = clean_reference(title, text, name=source_name or "")
    now = timezone.now()
    with transaction.atomic():
        item = (ReferenceItem.objects.select_for_update()
                .filter(workspace=workspace, source_name=source_name).first()
                if source_name else None)
        if item is None:
            item = ReferenceItem.objects.create(
                workspace=workspace, title=title, text=text, source_name=source_name,
                created_by=membership.user if membership else None, created_at=now, updated_at=now)
        elif item.text != text or item.title != title:
            item.title, item.text, item.updated_at = title, text, now
            item.save(update_fields=["title", "text", "updated_at"])
        else:
            return item
    return item


def reference_schedule_index(item: ReferenceItem) -> None:
    _send("index_reference", item.pk)


def reference_delete(*, membership: Membership, item: ReferenceItem) -> None:
    _check_write(membership)
    if item.workspace_id != membership.workspace_id:
        raise OriginalityError("Global reference texts are managed by an administrator.",
                               status=403)
    with transaction.atomic():
        record(workspace=membership.workspace_id, actor=membership.user,
               action="reference.deleted", target=item,
               summary=f"deleted the reference text {item.title!r}",
               details={"source": item.source_name, "chars": len(item.text)})
        item.delete()  # its passages go with it (on delete cascade)


# --- settings ---------------------------------------------------------------------------------

def settings_get(*, workspace_id: int) -> OriginalitySettings:
    """The stored settings, or an unsaved row with the defaults."""
    row = OriginalitySettings.objects.filter(workspace_id=workspace_id).first()
    return row or OriginalitySettings(workspace_id=workspace_id)


def settings_update(*, membership: Membership, paraphrase_threshold: float, copy_threshold: float,
                    check_generations: bool, regenerate: str,
                    max_regenerations: int) -> OriginalitySettings:
    if not membership.is_owner:
        raise OriginalityError("Only owners can change the originality settings.", status=403)
    errors = Thresholds(paraphrase=paraphrase_threshold, copy_overlap=copy_threshold).validate()
    if regenerate not in Regenerate.values:
        errors.append("Choose when to regenerate from the list.")
    if not 0 <= max_regenerations <= MAX_REGENERATIONS:
        errors.append(f"Regenerate at most {MAX_REGENERATIONS} times (0 turns it off).")
    if errors:
        raise OriginalityError(" ".join(errors))
    new = {"paraphrase_threshold": paraphrase_threshold, "copy_threshold": copy_threshold,
           "check_generations": check_generations, "regenerate": regenerate,
           "max_regenerations": max_regenerations}
    before = settings_get(workspace_id=membership.workspace_id)
    changed = {k: [getattr(before, k), v] for k, v in new.items() if getattr(before, k) != v}
    with transaction.atomic():
        row, _ = OriginalitySettings.objects.update_or_create(
            workspace_id=membership.workspace_id,
            defaults={**new, "updated_by": membership.user, "updated_at": timezone.now()})
        if changed:
            record(workspace=membership.workspace_id, actor=membership.user,
                   action="workspace.settings_changed", target=membership.workspace,
                   summary="changed the originality settings: " + ", ".join(
                       f"{k.replace('_', ' ')} {old} -> {value}"
                       for k, (old, value) in changed.items()),
                   details={"setting": "originality", "changed": changed})
    return row


# --- on-demand checks -------------------------------------------------------------------------

def document_check_request(*, membership: Membership, document: Document) -> OriginalityCheck:
    """Check the document's saved head version. A document has at most one check waiting or
    running: a running one is returned; a waiting one is moved to the head version (it has not
    read its text yet) and returned. A new check is paid for in characters, from the
    workspace's and the requester's daily budgets (viewers may check, so people, not roles,
    are counted)."""
    if document.workspace_id != membership.workspace_id or document.deleted_at is not None:
        raise Document.DoesNotExist
    with transaction.atomic():
        # One request per document at a time decides whether a check is pending.
        Document.objects.select_for_update().filter(pk=document.pk).first()
        pending = OriginalityCheck.objects.filter(
            document=document, status__in=[CheckStatus.QUEUED, CheckStatus.RUNNING]
        ).order_by("-created_at").first()
        if pending is not None:
            if (pending.status == CheckStatus.QUEUED
                    and pending.document_version != document.head_number):
                OriginalityCheck.objects.filter(pk=pending.pk, status=CheckStatus.QUEUED).update(
                    document_version=document.head_number)
                pending.refresh_from_db()
            return pending
        key = f"orig-checks:{membership.workspace_id}:{timezone.now():%Y%m%d%H%M}"
        if bump(key, timeout=120) > CHECKS_PER_MINUTE:
            raise OriginalityError(f"This workspace ran {CHECKS_PER_MINUTE} originality checks "
                                   "this minute; wait a minute and try again.", status=429,
                                   permanent=False, retry_after=seconds_to_next_minute())
        chars = max(1, len(document.body))
        ws_key = _day_key("check", "ws", membership.workspace_id)
        if _spend(ws_key, chars, conf.ORIGINALITY_CHECK_CHARS_PER_DAY) is None:
            raise OriginalityError(
                f"This workspace checked its {conf.ORIGINALITY_CHECK_CHARS_PER_DAY:,} characters "
                f"for today; this document has {chars:,}. The budget resets at midnight UTC.",
                status=429, permanent=False, retry_after=seconds_to_next_minute())
        user_key = _day_key("check", "user", membership.user_id)
        if _spend(user_key, chars, conf.ORIGINALITY_CHECK_CHARS_PER_USER_PER_DAY) is None:
            _give_back(ws_key, chars)
            raise OriginalityError(
                f"You checked {conf.ORIGINALITY_CHECK_CHARS_PER_USER_PER_DAY:,} characters today, "
                f"the daily limit per person; this document has {chars:,}. It resets at "
                "midnight UTC.", status=429, permanent=False, retry_after=seconds_to_next_minute())
        check = OriginalityCheck.objects.create(
            workspace_id=membership.workspace_id, document=document,
            document_version=document.head_number, created_by=membership.user)
        _send("check_document", check.pk)
    return check
