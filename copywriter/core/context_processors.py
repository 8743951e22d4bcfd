from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from copywriter.core.pagecache import placeholder_for


def page_cache_csrf(request: HttpRequest) -> dict[str, Any]:
    """While a page is rendered for the page cache, a placeholder stands where the CSRF token
    goes (each response gets the requester's own): listed after Django's csrf processor. The
    placeholder is this render's own random one, never a fixed string a user could type."""
    placeholder = placeholder_for(request)
    return {"csrf_token": placeholder} if placeholder else {}
