"""The public face of the badge: what every visitor of a badged website loads.

Changes to anything the public sees (issue, revocation, hang state, the unit's data, a
red page) call :func:`badge_changed`; every process drops its in-memory copies within a
second (the version lives in the shared cache), and the front server's data files of the
badges concerned are rewritten. The hot path itself is ``badges.hotpath``.
"""

import logging

from django.db import DatabaseError

from conac import hotcache

log = logging.getLogger(__name__)

VERSION_KEY = "badges:public-version"


def badge_changed(*badges):
    """Every process's public badge data is stale from now on; the front server's files follow.

    Pass the badges (instances or primary keys) whose script data changed — revoked,
    issued, their names or home page — and their files are rewritten at once. Called with
    none (a hang state, the unit's data: nothing in the files), the files of badges issued
    or revoked within the last day are checked, and rewritten where they differ. Call it
    after the change commits (``transaction.on_commit``).
    """
    hotcache.bump(VERSION_KEY)
    from .hotpath import files

    try:
        files.rewrite(badges)
    except (OSError, DatabaseError):
        # The in-memory copies are already stale everywhere, so the app answers right; the
        # front server serves the old files until `manage.py write_badge_files` repairs them.
        log.exception("网站标识: the front server's badge files could not be rewritten")


def unit_changed(unit, changed, actor):
    """Hook of 修改 (registry): the unit's badges show its new data on their pages at once."""
    from django.db import transaction

    from .models import Badge

    badges = list(Badge.objects.filter(unit=unit))
    if badges:
        transaction.on_commit(lambda: badge_changed(*badges), robust=True)
