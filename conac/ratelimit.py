"""Counting what one client address does in a window: in Redis when configured, else the database.

``RATELIMIT_BACKEND`` is "cache" when ``CACHE_URL`` is set (Redis: every web process shares
the counts, and the count is the cache's own atomic increment) and "database" otherwise (a
row per window, locked while it is counted), so simultaneous requests cannot both slip
under a limit in either.
"""

import datetime
import time

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone


def client_address(request):
    """The address django-axes resolved (proxy-aware), else the socket's."""
    return getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(scope, ident):
    # "v2": counts are plain integers for the cache's increment; keys of the earlier (count, end)
    # tuples are left to expire instead of being read as counts.
    return f"ratelimit:v2:{scope}:{ident}"


def _database():
    return getattr(settings, "RATELIMIT_BACKEND", "cache") == "database"


def count(scope, ident, *, window):
    """Count one event; returns how many in the current window (which starts at the first)."""
    key = _key(scope, ident)
    if _database():
        return _count_in_database(key, window)
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
    if _database():
        return _wait_in_database(key, limit)
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


def _count_in_database(key, window):
    from .models import RateCounter

    now = timezone.now()
    for _ in range(3):
        try:
            with transaction.atomic():
                counter = RateCounter.objects.select_for_update().filter(key=key).first()
                if counter is None:
                    RateCounter.objects.create(key=key, hits=1, ends_at=now + datetime.timedelta(seconds=window))
                    return 1
                if counter.ends_at <= now:
                    counter.hits, counter.ends_at = 1, now + datetime.timedelta(seconds=window)
                else:
                    counter.hits += 1
                counter.save(update_fields=["hits", "ends_at"])
                return counter.hits
        except IntegrityError:
            continue  # another request created the row first: count on it
    return 1


def _wait_in_database(key, limit):
    from .models import RateCounter

    counter = RateCounter.objects.filter(key=key, ends_at__gt=timezone.now()).first()
    if counter is None or counter.hits < limit:
        return 0
    return max(1, int((counter.ends_at - timezone.now()).total_seconds()))


def remove_expired():
    """Drop finished windows (the daily clean-up)."""
    from .models import RateCounter

    return RateCounter.objects.filter(ends_at__lte=timezone.now()).delete()[0]
