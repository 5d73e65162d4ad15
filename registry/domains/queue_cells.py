"""The review queues' rows, rendered once per process and kept until something they show changes.

Beside each waiting application 待审核域名 / 待复审域名 show its conflicts, alike names and
variants, the unit's other domains and the wait in working days (``queries.queue_rows``):
about 15 ms of SQL and Python and 8 ms of template for a page of 20 rows, the same for every
reviewer who opens the page, many times a day. So each row's cells — all but the tick box,
which is the reviewer's own — are rendered once and kept in a per-process ``conac.hotcache``
table, keyed by (tier, domain, its review round and last change, today), and dropped whenever
anything a row shows may have changed (``freshness``). A page whose rows are all kept runs no
query for them; a page with misses computes just those rows, with the same fixed number of
queries as before.
"""

from django.template.loader import render_to_string
from django.utils import timezone

from conac import hotcache

from . import freshness, queries

MAX_ROWS = 5_000  # about 3 KB each: 15 MB per process at most
_rows = freshness.table("queue rows", MAX_ROWS)


def rows(domains, *, tier, flag_overdue, today=None):
    """One dict per domain: ``domain``, ``cells`` (the rendered cells after the tick box) and ``overdue``."""
    today = today or timezone.localdate()
    domains = list(domains)
    keys = {d.pk: (tier, d.pk, d.review_round, d.updated_at, today) for d in domains}
    kept = {d.pk: _rows.peek(keys[d.pk]) for d in domains}
    missing = [d for d in domains if kept[d.pk] is hotcache.MISSING]
    if missing:

        def render():
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

        fresh = _rows.fill_many(render)
        kept.update({d.pk: fresh[keys[d.pk]] for d in missing})
    return [{"domain": d, "cells": kept[d.pk][0], "overdue": kept[d.pk][1]} for d in domains]
