"""Rendered-page cache for the pages people open most (catalog, generate form, document list,
document editor), so a repeat visit costs a few lookups instead of queries and a template render.

A cached page is found by everything it shows:
- the URL with its query string, and the htmx target for partial responses;
- the user, and the user's memberships as loaded for this request (workspace ids, names, roles:
  the switcher and every role-dependent button), so a role change or rename is seen at once;
- the local date (pages show "today"-relative dates);
- the tokens of the scopes of data the page reads (``core.scopes``): every write to that data
  replaces them, so every process stops using pages rendered before the write.

Pages are kept per process (in the LRU of ``core.scopes``) with a placeholder where the CSRF
token goes: each response gets the requester's own token. The placeholder is drawn at random for
each render and kept with the page, so it can only stand where the template put the token: text
a user wrote (a document holding a placeholder it copied from somewhere) is never replaced, and
so never shows a reader their token nor stores it on the next save. Nothing is cached for a
request carrying one-time messages, or for a response other than 200. If the shared cache cannot
be reached, the page is rendered as if there were no cache.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

from copywriter.core.scopes import clear as _clear_kept
from copywriter.core.scopes import keep, kept, key_for

log = logging.getLogger(__name__)

# Every render's placeholder is this prefix and 32 random hex digits ([a-z0-9]: nothing escapes
# it in HTML or JSON); only the prefix is fixed, so a user cannot write a placeholder.
PLACEHOLDER = "csrf0page0cache0placeholder0token"
_RENDERING = "_page_cache_rendering"

Scopes = Callable[..., Iterable[str]]


def _page_key(request: HttpRequest, scopes: list[str]) -> str:
    htmx = request.headers.get("HX-Request", ""), request.headers.get("HX-Target", "")
    memberships = [(m.workspace_id, m.workspace.name, m.role)
                   for m in getattr(request, "my_workspaces", [])]
    return key_for([request.get_full_path(), htmx, request.user.pk, memberships,
                    timezone.localdate().isoformat()], scopes)


def rendering_for_cache(request: HttpRequest) -> bool:
    """True while a view renders a page that will be cached (the CSRF token is a placeholder)."""
    return bool(getattr(request, _RENDERING, ""))


def placeholder_for(request: HttpRequest) -> str:
    """The placeholder that stands for the CSRF token in the page being rendered for the cache
    ("" when none is)."""
    return str(getattr(request, _RENDERING, ""))


def clear() -> None:
    """Forget this process's pages, and the rows ``remembered`` beside them (tests)."""
    _clear_kept()


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
            hit: tuple[bytes, str, str] | None = kept(key)
            if hit is not None:
                body, content_type, placeholder = hit
                return HttpResponse(_with_token(request, body, placeholder),
                                    content_type=content_type)
            placeholder = PLACEHOLDER + uuid.uuid4().hex
            setattr(request, _RENDERING, placeholder)
            try:
                response = view(request, *args, **kwargs)
            finally:
                setattr(request, _RENDERING, "")
            if getattr(response, "streaming", False):
                return response
            if response.status_code == 200 and not len(get_messages(request)):
                keep(key, (response.content, response["Content-Type"], placeholder))
            response.content = _with_token(request, response.content, placeholder)
            return response

        return wrapper

    return decorator
