"""Pagination that does not count a whole large table on every page view.

Django's ``Paginator`` asks ``SELECT COUNT(*)`` of the whole result for every page: on a
list of a million domains that scan is most of the page's time. ``BoundedPaginator`` counts
at most ``exact_limit`` + 1 rows (``SELECT COUNT(*) FROM (… LIMIT n)``, which stops early);
when there are more, it takes the planner's estimate of the result (PostgreSQL's ``EXPLAIN``,
no rows read) and says so: ``page.paginator.approximate`` is true and the page shows
“约 1,000,000 条”. On PostgreSQL the estimate is asked first, and when it is over ten times the
bound it is used at once, without the bounded count. Either way a page costs the same two
count queries (one on SQLite), whatever the size of the table.

A page number past the real end of an estimated result is an empty page (no error); the
estimate only ever decides how many page links there are.
"""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

EXACT_LIMIT = 10_000
# An estimate over ten times the bound is taken as it is: planner estimates of these lists are
# within a small factor of the truth, so the result is past the bound either way.
TRUST_ESTIMATE_ABOVE = 10


class BoundedPaginator(Paginator):
    """``kept``: a ``conac.hotcache.VersionedTable`` dropped when the listed rows change (e.g.
    ``registry.domains.freshness.COUNTS``): each count is then asked once per process and kept
    until then, under the count's own SQL and parameters."""

    def __init__(self, object_list, per_page, *, exact_limit=None, kept=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.exact_limit = EXACT_LIMIT if exact_limit is None else exact_limit
        self.approximate = False
        self.kept = kept

    @cached_property
    def count(self):
        queryset = self.object_list
        if not hasattr(queryset, "query"):
            return len(queryset)
        if queryset.query.is_empty():  # .none(): no SQL to estimate or count
            return 0
        if self.kept is None:
            count, self.approximate = self._count(queryset)
            return count
        sql, params = queryset.order_by().query.sql_with_params()
        key = (queryset.db, self.exact_limit, sql, repr(params))
        count, self.approximate = self.kept.get(key, lambda: self._count(queryset))
        return count

    def _count(self, queryset):
        """(count, approximate)."""
        estimate = None
        if connections[queryset.db].vendor == "postgresql":
            # The planner's figure first (no rows read): far past the bound, even counting up to
            # the bound (10,000 index entries, about 1 ms of the database's CPU) is not needed.
            estimate = estimated_count(queryset)
            if estimate > self.exact_limit * TRUST_ESTIMATE_ABOVE:
                return estimate, True
        bounded = queryset.order_by()[: self.exact_limit + 1].count()
        if bounded <= self.exact_limit:
            return bounded, False
        return max(self.exact_limit + 1, estimated_count(queryset) if estimate is None else estimate), True

    @property
    def count_text(self):
        """“1,234”, or “约 1,000,000” when estimated: what the page says about the total."""
        count = self.count
        return f"约 {count:,}" if self.approximate else f"{count:,}"


def estimated_count(queryset):
    """The planner's estimate of how many rows ``queryset`` returns (0 where there is no planner)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.count()  # SQLite (make run): small enough to count
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)  # the ORM's own SQL
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
