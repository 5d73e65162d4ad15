"""Where the browser tests save their screenshots.

By default under ``var/screenshots`` (not in git), so a test run leaves the tree clean;
``UPDATE_SCREENSHOTS=1 make test`` refreshes the README's pictures in ``docs/screenshots``.
"""

import os
from pathlib import Path

from django.conf import settings

SCREENSHOTS = Path(settings.BASE_DIR) / (
    "docs/screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "var/screenshots"
)
SCREENSHOTS.mkdir(parents=True, exist_ok=True)
