"""Celery tasks of the registry: thin wrappers around services."""

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def publish_zones():
    """Publish every dirty zone (coalesced trigger, and every minute from beat).

    Returns ``{zone: serial}`` of the zones published. A zone that fails its check is
    recorded on its ZoneState and reported to CONAC by the publisher; it stays dirty,
    so the next run (beat, within a minute) tries again: no Celery retry here.
    """
    from registry.dns import forwarding, publishing, zones

    publishing.start_publishing()
    try:
        results = zones.publish_dirty()
    except zones.PublishError as exc:
        log.exception("zone publish failed")
        results = getattr(exc, "results", [])
    if results:
        # Heals a lost version bump (the cache was down at approval): forwarding follows the zones.
        try:
            forwarding.bump_version()
        except Exception:
            log.exception("could not bump the forwarding table version")
    return {result.zone: result.serial for result in results}
