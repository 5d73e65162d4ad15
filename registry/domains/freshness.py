"""What the staff pages keep of domains between requests, and when it is dropped.

Two per-process ``conac.hotcache`` tables read through here: the review queues' rendered rows
(``queue_cells``) and 域名查询's counts (``COUNTS``, used by ``conac.pagination``). Both are
dropped — in this process at once, in the others within ``CHECK_INTERVAL`` (a version in the
shared cache) — whenever anything they show may have changed: a domain saved, deleted or
updated in bulk (a name taken, released or changing state; ``domains_updated`` covers the bulk
writes of fee marking and the daily jobs), a unit (its name, kind, level, region, credit code),
a reserved name, an office or a region (names, the tree, a scope), or a working-day exception.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from conac import hotcache

from .queries import OFFICE_TREE_VERSION

VERSION_KEY = "registry:domains-version"
CHECK_INTERVAL = 1.0
_tables = []


def table(name, max_entries):
    """A per-process table dropped whenever domains (or what is shown with them) change."""
    kept = hotcache.VersionedTable(
        VERSION_KEY, OFFICE_TREE_VERSION, interval=CHECK_INTERVAL, max_entries=max_entries, name=name
    )
    _tables.append(kept)
    return kept


# (database, SQL, parameters) of a list's count → (count, approximate): a few bytes each.
COUNTS = table("domain counts", 10_000)


def changed(**kwargs):
    """Something shown with domains may have changed: drop the tables here now, elsewhere after commit."""
    for kept in _tables:
        kept.clear()
    # After commit (at once outside a transaction): another process reloading before the change
    # is visible would keep the old rows. One bump per change: a cache write, next to a row write.
    transaction.on_commit(bump, robust=True)


def bump():
    hotcache.bump(VERSION_KEY)


def connect():
    from conac.models import WorkdayException
    from registry.models import Domain, Office, Region, ReservedName, Unit

    from .models import domains_updated

    for model in (Domain, Unit, ReservedName, Office, Region, WorkdayException):
        post_save.connect(changed, sender=model, dispatch_uid=f"domains-kept-{model.__name__}-saved")
        post_delete.connect(changed, sender=model, dispatch_uid=f"domains-kept-{model.__name__}-deleted")
    domains_updated.connect(changed, sender=Domain, dispatch_uid="domains-kept-domains-updated")
