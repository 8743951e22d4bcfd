"""Counters in the shared cache (rate limits, quotas), safe when a key vanishes mid-way."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone


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


def seconds_to_next_minute() -> int:
    """When a per-minute counter (keyed by the minute) starts again: a ``Retry-After``."""
    return max(1, 60 - timezone.now().second)


def seconds_to_midnight() -> int:
    """When a daily counter (keyed by the UTC day) starts again: a ``Retry-After``."""
    now = timezone.now()
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - now).total_seconds()))
