"""Celery tasks of the registry: thin wrappers around services."""

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task
def publish_zones():
    """Publish every dirty zone (coalesced trigger, and every minute from beat)."""
    from registry.dns import publishing, zones

    publishing.start_publishing()
    try:
        zones.publish_dirty()
    except zones.PublishError:
        # Recorded on the zone and sent to CONAC; the zone stays dirty and beat tries again.
        log.exception("zone publish failed")
