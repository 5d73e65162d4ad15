"""When the cached public facts are stale: every process drops them within a second.

The hot path (``hotpath``) keeps each answer in a per-process ``conac.hotcache`` table that
watches three versions in the shared cache:

- ``rdap:version``, bumped after any committed save or delete of a domain or a unit, and after
  an update of domains in bulk (``registry.domains.models.domains_updated``);
- URL转发's version, bumped whenever a zone changes (DNS approvals, 删除域名, and the daily
  jobs' activation, renewal and expiry, which write in bulk and so send no model signal);
- the public badge version, bumped when a badge is issued, revoked or its unit changes.

Model signals are used here, unlike in the apps' business rules, because this is a read-only
copy that must not miss a write from any path (services, the review engine, the admin) and
nothing in ``registry`` may call into this app; the signal only bumps a version after commit.
Writes that change neither a signal nor a zone (a fee marked, a remittance confirmed: the
name stays "pending create") are bounded by ``RDAP_MAX_ENTRY_AGE``.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from badges import public as badge_public
from conac import hotcache
from registry.dns import forwarding

VERSION_KEY = "rdap:version"
WATCHED = (VERSION_KEY, forwarding.VERSION_KEY, badge_public.VERSION_KEY)


def bump():
    hotcache.bump(VERSION_KEY)


def _changed(sender, **kwargs):
    # After commit: a reader must not reload the old row before the change is visible. (A batch
    # of N saves bumps N times, a cache write each; cheap next to the N row writes.)
    transaction.on_commit(bump, robust=True)


def connect():
    from registry.domains.models import domains_updated
    from registry.models import Domain, Unit

    domains_updated.connect(_changed, sender=Domain, dispatch_uid="rdap-domains-updated")
    for model in (Domain, Unit):
        post_save.connect(_changed, sender=model, dispatch_uid=f"rdap-{model.__name__}-saved")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"rdap-{model.__name__}-deleted")
