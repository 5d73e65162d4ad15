"""Counting what one client address does in a window, in the shared cache.

With ``CACHE_URL`` pointing at Redis every web process shares the counts; on the embedded
default (one process) the process-local cache is the whole picture. The count is the cache's
own atomic increment, so simultaneous requests cannot both slip under a limit. Several web
processes without ``CACHE_URL`` would each count alone: docker-compose sets it.
"""

import time

from django.core.cache import cache


def client_address(request):
    """The address django-axes resolved (proxy-aware), else the socket's."""
    return getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(scope, ident):
    # "v2": counts are plain integers for the cache's increment; keys of the earlier (count, end)
    # tuples are left to expire instead of being read as counts.
    return f"ratelimit:v2:{scope}:{ident}"


def count(scope, ident, *, window):
    """Count one event; returns how many in the current window (which starts at the first)."""
    key = _key(scope, ident)
    for _ in range(3):
        if cache.add(key, 1, timeout=window):
            cache.set(f"{key}:ends", time.time() + window, timeout=window)
            return 1
        try:
            return cache.incr(key)
        except ValueError:
            continue  # the window ended between add and incr: start the next one
    return 1


def wait_seconds(scope, ident, *, limit):
    """Seconds until the address may try again, or 0 when it is under ``limit``."""
    key = _key(scope, ident)
    hits = cache.get(key)
    if hits is None or hits < limit:
        return 0
    ends = cache.get(f"{key}:ends") or time.time() + 1
    return max(1, int(ends - time.time()))


def hit(scope, ident, *, limit, window):
    """Count one event and answer the seconds to wait if it is over ``limit`` (else 0)."""
    if count(scope, ident, window=window) <= limit:
        return 0
    return wait_seconds(scope, ident, limit=limit)
