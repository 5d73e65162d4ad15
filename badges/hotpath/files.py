"""The front-server path: each badge's data script as a file a server like nginx serves directly.

``BADGE_PUBLIC_DIR/js/PP/CCC/DDDD/NNNNNNNN/CA….js`` holds exactly the bytes the app answers
for that URL (deploy/nginx.conf serves ``/js/`` from this folder and falls back to the app
for a file that is not there, such as an unknown code). Files are replaced atomically and
only when their content changed; ``manage.py write_badge_files`` rewrites them all, as after
a deployment (the logic file's and images' hashed names may have changed).
"""

import datetime
import logging
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from . import entries, paths

log = logging.getLogger(__name__)

# badge_changed() without arguments looks at the badges issued or revoked this recently.
RECENT = datetime.timedelta(days=1)


def public_dir():
    """The folder, or None when the front-server path is switched off (``BADGE_PUBLIC_DIR=""``)."""
    folder = getattr(settings, "BADGE_PUBLIC_DIR", "")
    return Path(folder) if folder else None


def file_for(code, folder=None):
    folder = folder or public_dir()
    return folder / paths.script_path(code).lstrip("/")


def write(public_badge, folder=None):
    """Write one badge's file if its content differs; True when written."""
    folder = folder or public_dir()
    if folder is None:
        return False
    target = file_for(public_badge.code, folder)
    try:
        if target.read_bytes() == public_badge.script:
            return False
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    handle = tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False)  # noqa: SIM115
    try:
        with handle:
            handle.write(public_badge.script)
        # mkstemp makes it 0600: the front server runs as another user.
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return True


def rewrite(badges=(), *, now=None):
    """The files of ``badges`` (instances or primary keys); with none, of those issued or revoked recently.

    Returns (written, unchanged).
    """
    folder = public_dir()
    if folder is None:
        return 0, 0
    if badges:
        ids = [getattr(b, "pk", b) for b in badges]
        query = entries.badges_for_public().filter(pk__in=ids)
    else:
        since = (now or timezone.now()) - RECENT
        query = entries.badges_for_public().filter(Q(issued_at__gte=since) | Q(revoked_at__gte=since))
    return _write_all(query, folder)


def rewrite_all():
    """Every badge's file (after a deployment, or to repair the folder). Returns (written, unchanged)."""
    folder = public_dir()
    if folder is None:
        return 0, 0
    return _write_all(entries.badges_for_public().order_by("pk"), folder)


def _write_all(query, folder):
    written = unchanged = 0
    for badge in query.iterator(chunk_size=2000):
        if write(entries.PublicBadge(badge), folder):
            written += 1
        else:
            unchanged += 1
    return written, unchanged
