"""Scope tokens: one token per *scope* of data (``ws:3:documents``, ``user:7:favourites``...),
kept in the shared cache, and what each process keeps while those tokens stand.

Every write to a scope's data replaces its token, and again after its transaction commits
(``invalidate``), so every process stops using what it kept from before the write. The apps that
own the data say which writes touch which scopes: each connects ``invalidate_on`` for its models in
its ``AppConfig.ready()``, and the few ``QuerySet.update()`` paths, which send no signal, call
``invalidate`` themselves. A token missing from the shared cache (evicted, restarted) is recreated
with a new value, which misses everything kept under the old one: losing the cache can cost time,
never freshness.

What is kept lives in one per-process LRU (``PAGE_CACHE_ENTRIES`` entries, each for at most
``PAGE_CACHE_SECONDS``; 0 turns it off): rendered pages (``core.pagecache``) and ``remembered``
rows, what every request needs before its view runs: the user's row (``accounts.backends``) and
their memberships (``workspaces.selectors``), replaced on any save or delete of the user, a
membership or a workspace, so a removed member, a changed role or password counts from the next
request on.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

log = logging.getLogger(__name__)

_PREFIX = "page-scope:"

# key -> (expires at, value)
_kept: OrderedDict[str, tuple[float, Any]] = OrderedDict()
_lock = threading.Lock()

T = TypeVar("T")


def invalidate(*scopes: str) -> None:
    """New tokens for ``scopes`` now, and again once the current transaction commits: a page
    rendered between the two from data read before the commit is never served after it."""
    if not scopes:
        return

    def replace() -> None:
        try:
            cache.set_many({_PREFIX + s: uuid.uuid4().hex for s in scopes}, timeout=None)
        except Exception:  # the cache is down: its tokens are gone with it, nothing to replace
            log.warning("page cache: could not replace tokens for %s", scopes, exc_info=True)

    replace()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(replace)


def invalidate_on(model: type[Model], scopes_of: Callable[..., Iterable[str]]) -> None:
    """Replace the tokens of ``scopes_of(instance, **signal_kwargs)`` on every save and delete
    of ``model`` (``created`` and ``update_fields`` come with a save)."""

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        invalidate(*scopes_of(instance, **kwargs))

    uid = f"scopes-{model._meta.label}"
    post_save.connect(receiver, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}-delete")


def _tokens(scopes: list[str]) -> list[str]:
    keys = [_PREFIX + s for s in scopes]
    found = cache.get_many(keys)
    tokens = []
    for key in keys:
        token = found.get(key)
        if token is None:
            token = uuid.uuid4().hex
            if not cache.add(key, token, timeout=None):  # another process made one first
                token = cache.get(key) or token
        tokens.append(token)
    return tokens


def key_for(parts: list[Any], scopes: list[str]) -> str:
    """What identifies a kept value: ``parts`` and the current tokens of ``scopes`` (reads the
    shared cache: raises when it cannot be reached)."""
    scopes = sorted(scopes)
    return hashlib.sha256(repr([*parts, scopes, _tokens(scopes)]).encode()).hexdigest()


def kept(key: str) -> Any | None:
    """The value kept under ``key`` in this process, or None."""
    with _lock:
        entry = _kept.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del _kept[key]
            return None
        _kept.move_to_end(key)
        return entry[1]


def keep(key: str, value: Any) -> None:
    with _lock:
        _kept[key] = (time.monotonic() + settings.PAGE_CACHE_SECONDS, value)
        _kept.move_to_end(key)
        while len(_kept) > settings.PAGE_CACHE_ENTRIES:
            _kept.popitem(last=False)


def clear() -> None:
    """Forget what this process keeps."""
    with _lock:
        _kept.clear()


def remembered(name: str, scopes: list[str], load: Callable[[], T]) -> T:
    """``load()``'s result, kept in this process while the tokens of ``scopes`` are unchanged.
    Every call gets its own copy, so a caller may change it."""
    if settings.PAGE_CACHE_SECONDS <= 0:
        return load()
    try:
        key = key_for([name], scopes)
    except Exception:
        log.warning("page cache unavailable; loading %s", name, exc_info=True)
        return load()
    hit = kept(key)
    if hit is not None:
        return pickle.loads(hit)  # noqa: S301 - bytes this process pickled itself
    value = load()
    keep(key, pickle.dumps(value))
    return value


# --- The scopes: the data that pages and remembered rows read -------------------------------

def documents(workspace_id: int | None) -> str:
    """Titles, texts, heads and trash state of a workspace's documents."""
    return f"ws:{workspace_id}:documents"


def templates(workspace_id: int | None) -> str:
    """Templates visible in a workspace: its own (``None``: the built-in library)."""
    return f"ws:{workspace_id}:templates"


def voices(workspace_id: int | None) -> str:
    """A workspace's brand voices (ready ones are tones in the generate form)."""
    return f"ws:{workspace_id}:voices"


def favourites(user_id: int | None) -> str:
    return f"user:{user_id}:favourites"


def recent(user_id: int | None) -> str:
    """The templates a user generated with lately (the catalog's "Recently used")."""
    return f"user:{user_id}:recent"


PEOPLE = "people"  # users' display names (document authors)


def account(user_id: int | None) -> str:
    """A user's row and memberships (with their workspaces): what every request checks."""
    return f"user:{user_id}:account"
