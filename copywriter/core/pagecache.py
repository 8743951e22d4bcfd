"""Rendered-page cache for the pages people open most (catalog, generate form, document list,
document editor), so a repeat visit costs a few lookups instead of queries and a template render.

A cached page is found by everything it shows:
- the URL with its query string, and the htmx target for partial responses;
- the user, and the user's memberships as loaded for this request (workspace ids, names, roles:
  the switcher and every role-dependent button), so a role change or rename is seen at once;
- the local date (pages show "today"-relative dates);
- one token per *scope* of data the page reads (``ws:3:documents``, ``user:7:favourites``...),
  kept in the shared cache. Every write to that data replaces the token, and again after its
  transaction commits (``invalidate``; model signals call it for saves and deletes, and the few
  ``QuerySet.update()`` paths call it themselves), so every process stops using pages rendered
  before the write. A token missing from the shared cache (evicted, restarted) is recreated
  with a new value, which misses every old page: losing the cache can cost time, never
  freshness.

Pages are kept per process (an LRU of ``PAGE_CACHE_ENTRIES``, each for at most
``PAGE_CACHE_SECONDS``; 0 turns the cache off) with a placeholder where the CSRF token goes:
each response gets the requester's own token. The placeholder is drawn at random for each
render and kept with the page, so it can only stand where the template put the token: text a
user wrote (a document holding a placeholder it copied from somewhere) is never replaced, and
so never shows a reader their token nor stores it on the next save. Nothing is cached for a request carrying
one-time messages, or for a response other than 200. If the shared cache cannot be reached, the
page is rendered as if there were no cache.

The same tokens keep what every request needs before its view runs (``remembered``): the
user's row (``accounts.backends``) and their memberships (``workspace_member``), replaced on any
save or delete of the user, a membership or a workspace, so a removed member, a changed role or
password counts from the next request on.
"""

from __future__ import annotations

import functools
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
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

log = logging.getLogger(__name__)

# Every render's placeholder is this prefix and 32 random hex digits ([a-z0-9]: nothing escapes
# it in HTML or JSON); only the prefix is fixed, so a user cannot write a placeholder.
PLACEHOLDER = "csrf0page0cache0placeholder0token"
_PREFIX = "page-scope:"
_RENDERING = "_page_cache_rendering"

# key -> (expires at, body, content type, the placeholder this body was rendered with)
_pages: OrderedDict[str, tuple[float, bytes, str, str]] = OrderedDict()
_lock = threading.Lock()

Scopes = Callable[..., Iterable[str]]
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


def _key(parts: list[Any], scopes: list[str]) -> str:
    """What identifies an entry: ``parts`` and the current tokens of ``scopes``."""
    scopes = sorted(scopes)
    return hashlib.sha256(repr([*parts, scopes, _tokens(scopes)]).encode()).hexdigest()


def _page_key(request: HttpRequest, scopes: list[str]) -> str:
    htmx = request.headers.get("HX-Request", ""), request.headers.get("HX-Target", "")
    memberships = [(m.workspace_id, m.workspace.name, m.role)
                   for m in getattr(request, "my_workspaces", [])]
    return _key([request.get_full_path(), htmx, request.user.pk, memberships,
                 timezone.localdate().isoformat()], scopes)


def rendering_for_cache(request: HttpRequest) -> bool:
    """True while a view renders a page that will be cached (the CSRF token is a placeholder)."""
    return bool(getattr(request, _RENDERING, ""))


def placeholder_for(request: HttpRequest) -> str:
    """The placeholder that stands for the CSRF token in the page being rendered for the cache
    ("" when none is)."""
    return str(getattr(request, _RENDERING, ""))


def _get(key: str) -> tuple[bytes, str, str] | None:
    with _lock:
        entry = _pages.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del _pages[key]
            return None
        _pages.move_to_end(key)
        return entry[1], entry[2], entry[3]


def _put(key: str, body: bytes, content_type: str, placeholder: str = "") -> None:
    with _lock:
        _pages[key] = (time.monotonic() + settings.PAGE_CACHE_SECONDS, body, content_type,
                       placeholder)
        _pages.move_to_end(key)
        while len(_pages) > settings.PAGE_CACHE_ENTRIES:
            _pages.popitem(last=False)


def clear() -> None:
    """Forget this process's pages (tests)."""
    with _lock:
        _pages.clear()


def remembered(name: str, scopes: list[str], load: Callable[[], T]) -> T:
    """``load()``'s result, kept in this process while the tokens of ``scopes`` are unchanged
    (the same mechanism as pages). Every call gets its own copy, so a caller may change it."""
    if settings.PAGE_CACHE_SECONDS <= 0:
        return load()
    try:
        key = _key([name], scopes)
    except Exception:
        log.warning("page cache unavailable; loading %s", name, exc_info=True)
        return load()
    hit = _get(key)
    if hit is not None:
        return pickle.loads(hit[0])  # noqa: S301 - bytes this process pickled itself
    value = load()
    _put(key, pickle.dumps(value), "pickle")
    return value


def _with_token(request: HttpRequest, body: bytes, placeholder: str) -> bytes:
    return body.replace(placeholder.encode(), get_token(request).encode())


def cached_page(scopes: Scopes) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Cache a GET view's 200 responses; ``scopes(request, **view_kwargs)`` names the data it
    reads. Goes inside ``workspace_member`` (access is checked before the cache is consulted).
    A hit answers with the stored body and content type only: for views that set no headers."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if (request.method != "GET" or settings.PAGE_CACHE_SECONDS <= 0
                    or len(get_messages(request))):
                return view(request, *args, **kwargs)
            try:
                key = _page_key(request, list(scopes(request, **kwargs)))
            except Exception:
                log.warning("page cache unavailable; rendering %s", request.path, exc_info=True)
                return view(request, *args, **kwargs)
            hit = _get(key)
            if hit is not None:
                return HttpResponse(_with_token(request, hit[0], hit[2]), content_type=hit[1])
            placeholder = PLACEHOLDER + uuid.uuid4().hex
            setattr(request, _RENDERING, placeholder)
            try:
                response = view(request, *args, **kwargs)
            finally:
                setattr(request, _RENDERING, "")
            if getattr(response, "streaming", False):
                return response
            if response.status_code == 200 and not len(get_messages(request)):
                _put(key, response.content, response["Content-Type"], placeholder)
            response.content = _with_token(request, response.content, placeholder)
            return response

        return wrapper

    return decorator


# --- Scopes: the data a cached page reads, and what replaces their tokens --------------------

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


def connect_invalidation() -> None:
    """Model signals that replace scope tokens on saves and deletes (CoreConfig.ready)."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save

    from copywriter.catalog.models import Favourite, Template
    from copywriter.documents.models import Document
    from copywriter.generation.models import Generation
    from copywriter.voices.models import BrandVoice
    from copywriter.workspaces.models import Membership, Workspace

    def on(model: Any, scopes: Callable[..., Iterable[str]]) -> None:
        def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
            invalidate(*scopes(instance, **kwargs))

        post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"pagecache-{model}")
        post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"pagecache-d-{model}")

    on(Document, lambda d, **kw: [documents(d.workspace_id)])
    on(Template, lambda t, **kw: [templates(t.workspace_id)])
    on(Favourite, lambda f, **kw: [favourites(f.user_id)])
    on(BrandVoice, lambda v, **kw: [voices(v.workspace_id)])
    # Only a new generation changes "Recently used"; progress saves do not.
    on(Generation, lambda g, created=True, **kw: [recent(g.created_by_id)] if created else [])
    # A login saves last_login only: that changes no page and no access.
    on(get_user_model(), lambda u, update_fields=None, **kw:
       [] if update_fields and set(update_fields) <= {"last_login"} else [PEOPLE, account(u.pk)])
    on(Membership, lambda m, **kw: [account(m.user_id)])
    on(Workspace, lambda w, **kw: [account(uid) for uid in
                                   Membership.objects.filter(workspace_id=w.pk)
                                   .values_list("user_id", flat=True)])
