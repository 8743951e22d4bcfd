"""Counters in the shared cache (rate limits, quotas), safe when a key vanishes mid-way."""

from __future__ import annotations

from django.core.cache import cache


def bump(key: str, *, timeout: int) -> int:
    """Add one to ``key`` (created at 0 if missing) and return the new count.

    ``add`` then ``incr`` is two round trips: if the cache evicts or flushes the key in between,
    ``incr`` raises ValueError; the count restarts at 1 instead of answering 500.
    """
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key))
    except ValueError:
        cache.set(key, 1, timeout=timeout)
        return 1
