"""When the cached public facts are stale: every process drops them within a second.

The hot path (``hotpath``) keeps each answer in a per-process ``conac.hotcache`` table that
watches three versions in the shared cache:

- the registry's domains version (``registry.domains.freshness``), bumped after any committed
  save or delete of a domain, a unit, an office or a region, and after an update of domains in
  bulk (fee marking, the daily jobs' activation, renewal and expiry): the same version the staff
  pages' kept queue rows and counts watch;
- URL转发's version, bumped whenever a zone changes (DNS approvals, 删除域名, the daily jobs);
- the public badge version, bumped when a badge is issued, revoked or its unit changes.

Writes that change none of these (a remittance confirmed: the name stays "pending create") are
bounded by ``RDAP_MAX_ENTRY_AGE``.
"""

from badges import public as badge_public
from registry.dns import forwarding
from registry.domains import freshness as domains_freshness

WATCHED = (domains_freshness.VERSION_KEY, forwarding.VERSION_KEY, badge_public.VERSION_KEY)
