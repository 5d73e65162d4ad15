"""The review queues' rows, rendered once per process and kept until something they show changes.

Beside each waiting application 待审核域名 / 待复审域名 show its conflicts, alike names and
variants, the unit's other domains and the wait in working days (``queries.queue_rows``):
about 15 ms of SQL and Python and 8 ms of template for a page of 20 rows, the same for every
reviewer who opens the page, many times a day. So each row's cells — all but the tick box,
which is the reviewer's own — are rendered once and kept in a per-process ``conac.hotcache``
table, keyed by (tier, domain, its review round and last change, today).

The table is dropped, in this process at once and in the others within ``CHECK_INTERVAL``
(a version in the shared cache), whenever anything a row shows may have changed: a domain
saved, deleted or updated in bulk (a name taken, released or changing state; ``domains_updated``
covers the bulk writes of fee marking and the daily jobs), a unit (its name, kind, level,
region, credit code), a reserved name, an office or a region (names, the tree), or a
working-day exception. A page whose rows are all kept runs no query for them; a page with
misses computes just those rows, with the same fixed number of queries as before.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.template.loader import render_to_string
from django.utils import timezone

from conac import hotcache

from . import queries

VERSION_KEY = "registry:queue-rows-version"
CHECK_INTERVAL = 1.0
MAX_ROWS = 5_000  # about 3 KB each: 15 MB per process at most

_rows = hotcache.VersionedTable(
    VERSION_KEY, queries.OFFICE_TREE_VERSION, interval=CHECK_INTERVAL, max_entries=MAX_ROWS, name="queue rows"
)


def rows(domains, *, tier, flag_overdue, today=None):
    """One dict per domain: ``domain``, ``cells`` (the rendered cells after the tick box) and ``overdue``."""
    today = today or timezone.localdate()
    domains = list(domains)
    keys = {d.pk: (tier, d.pk, d.review_round, d.updated_at, today) for d in domains}
    kept = {d.pk: _rows.peek(keys[d.pk]) for d in domains}
    missing = [d for d in domains if kept[d.pk] is hotcache.MISSING]
    if missing:

        def render(_keys):
            computed = queries.queue_rows(missing, flag_overdue=flag_overdue, today=today)
            return {
                keys[row["domain"].pk]: (
                    render_to_string(
                        "registry/partials/queue_row_cells.html",
                        {"row": row, "tier": tier, "deadline": queries.OFFICE_DEADLINE_WORKDAYS},
                    ),
                    row["overdue"],
                )
                for row in computed
            }

        fresh = _rows.fill_many([keys[d.pk] for d in missing], render)
        kept.update({d.pk: fresh[keys[d.pk]] for d in missing})
    return [{"domain": d, "cells": kept[d.pk][0], "overdue": kept[d.pk][1]} for d in domains]


def changed(**kwargs):
    """Something a row shows may have changed: drop the rows here now, elsewhere after commit."""
    _rows.clear()
    hotcache.bump(VERSION_KEY)
    # And again after commit: another process may have reloaded a row before the change was visible.
    transaction.on_commit(lambda: hotcache.bump(VERSION_KEY), robust=True)


def connect():
    from conac.models import WorkdayException
    from registry.models import Domain, Office, Region, ReservedName, Unit

    from .models import domains_updated

    for model in (Domain, Unit, ReservedName, Office, Region, WorkdayException):
        post_save.connect(changed, sender=model, dispatch_uid=f"queue-rows-{model.__name__}-saved")
        post_delete.connect(changed, sender=model, dispatch_uid=f"queue-rows-{model.__name__}-deleted")
    domains_updated.connect(changed, sender=Domain, dispatch_uid="queue-rows-domains-updated")
