"""When zones are published: every change marks its zone dirty; publishes are coalesced.

A service that changes what a zone or the forwarding table holds calls
:func:`zone_changed` inside its transaction. When the transaction commits, one publish
is scheduled ``DNS_PUBLISH_DELAY`` seconds ahead unless one is already waiting, so a
burst of approvals makes one publish; the forwarding table's version is bumped at once.
A beat task publishes any zone still dirty every minute (a failed check, a lost task).
"""

import logging

from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from registry.domains.names import SUFFIXES

from . import forwarding
from .models import ZoneState

SCHEDULED_KEY = "dns:publish-scheduled"

log = logging.getLogger(__name__)


def zone_suffixes():
    return list(SUFFIXES)


def zone_changed(suffix, *, forwarding=False):
    """Mark the zone of ``suffix`` dirty (in the caller's transaction); publish after commit."""
    zone = SUFFIXES.get(suffix)
    if zone is None:
        return
    ZoneState.objects.get_or_create(zone=zone)
    ZoneState.objects.filter(zone=zone).update(requested=F("requested") + 1)
    # robust: these run after the change committed; a cache or broker failure is logged, never
    # turned into an error page (the every-minute beat publishes the dirty zone and bumps the version).
    if forwarding:
        transaction.on_commit(_bump_forwarding, robust=True)
    transaction.on_commit(schedule_publish, robust=True)


def _bump_forwarding():
    forwarding.bump_version()


def schedule_publish():
    """Queue one publish unless one is already waiting (the coalescing window)."""
    from django.conf import settings

    from registry.tasks import publish_zones

    delay = settings.DNS_PUBLISH_DELAY
    if not cache.add(SCHEDULED_KEY, 1, timeout=int(delay * 4) + 60):
        return  # a publish is already waiting: it will see this change too
    try:
        publish_zones.apply_async(countdown=delay)
    except Exception:
        # Runs after the change committed: never fail the request over it. The zone is
        # dirty, so the every-minute beat publishes it; the next change may retry at once.
        cache.delete(SCHEDULED_KEY)
        log.exception("could not queue the zone publish; beat will publish the dirty zone")


def start_publishing():
    """Called by the task as it starts: later changes schedule a new publish."""
    cache.delete(SCHEDULED_KEY)
