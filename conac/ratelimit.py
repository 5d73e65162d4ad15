"""Counting what one client address does in a window, in the shared cache.

With ``CACHE_URL`` pointing at Redis every web process shares the counts; on the embedded
default (one process) the process-local cache is the whole picture.
"""

import time

from django.core.cache import cache


def client_address(request):
    """The address django-axes resolved (proxy-aware), else the socket's."""
    return getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(scope, ident):
    return f"ratelimit:{scope}:{ident}"


def count(scope, ident, *, window):
    """Count one event; returns how many in the current window (which starts at the first)."""
    key = _key(scope, ident)
    if cache.add(key, (1, time.time() + window), timeout=window):
        return 1
    value = cache.get(key)
    if value is None:
        cache.set(key, (1, time.time() + window), timeout=window)
        return 1
    hits, ends = value
    cache.set(key, (hits + 1, ends), timeout=max(1, int(ends - time.time())))
    return hits + 1


def wait_seconds(scope, ident, *, limit):
    """Seconds until the address may try again, or 0 when it is under ``limit``."""
    value = cache.get(_key(scope, ident))
    if value is None or value[0] < limit:
        return 0
    return max(1, int(value[1] - time.time()))
