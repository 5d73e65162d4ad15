"""The public face of the badge: what every visitor of a badged website loads.

Changes to anything the public sees (issue, revocation, hang state, the unit's data, a
red page) call :func:`badge_changed`; every process drops its in-memory copies within a
second (the version lives in the shared cache).
"""

import uuid

from django.core.cache import cache

VERSION_KEY = "badges:public-version"


def badge_changed():
    """Every process's public badge data is stale from now on."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
