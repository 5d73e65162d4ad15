"""The static files every badge shares: the logic script and the images.

They are ordinary static files (``static/badges/``), content-hashed by the manifest
storage when ``DEBUG=False`` and so cached ``immutable``. The per-badge responses name
them by absolute URL on the badge host; the image endpoint answers their bytes from
process memory. On the badge host (not one of ``SITE_HOSTS``) this module also serves
``/static/badges/…`` itself, through WhiteNoise, since the staff site's static handler
does not answer there.
"""

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage

from .paths import public_url

log = logging.getLogger(__name__)

LOGIC = "badges/badge.js"


@dataclass(frozen=True)
class Look:
    """How one family of badges is drawn: its image and alt, and its error variant."""

    image: str
    alt: str
    error_image: str


LOOKS = {
    # 党政机关 (red), 事业单位 (blue); a 社会组织's blue badge reads 社会组织, not 事业单位.
    "organ": Look("badges/red.png", "党政机关网站标识", "badges/error-red.png"),
    "institution": Look("badges/blue.png", "事业单位网站标识", "badges/error-blue.png"),
    "social": Look("badges/social.png", "社会组织网站标识", "badges/error-blue.png"),
}
UNKNOWN_IMAGE = "badges/error.png"  # a code that names no badge
MISMATCH_ALT = "网站标识与本网站不符"
REVOKED_ALT = "该网站标识已撤销"


def static_path(name):
    """The file's URL path (hashed when the manifest storage is in use)."""
    try:
        return staticfiles_storage.url(name)
    except ValueError:
        # DEBUG=False without collectstatic: the badge still works, only not cached for good.
        log.warning("网站标识: %s is not in the static files manifest (run collectstatic)", name)
        return "/" + settings.STATIC_URL.lstrip("/") + name


def static_url(name):
    """The file's absolute URL on the badge host, as a page elsewhere must name it."""
    return public_url(static_path(name))


_images = {}


def image(name):
    """(bytes, ETag) of a badge image, read once per process."""
    found = _images.get(name)
    if found is None:
        path = finders.find(name)
        if path is None:
            raise FileNotFoundError(f"static file {name} not found (manage.py render_badge_images)")
        with open(path, "rb") as handle:
            data = handle.read()
        found = _images[name] = (data, '"' + hashlib.sha256(data).hexdigest()[:20] + '"')
    return found


class _OverriddenSettings:
    def __init__(self, **overrides):
        self._overrides = overrides

    def __getattr__(self, name):
        if name in self._overrides:
            return self._overrides[name]
        return getattr(settings, name)


def _cross_origin_headers(headers, path, url):
    headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    headers["X-Content-Type-Options"] = "nosniff"
    base = getattr(settings, "WHITENOISE_ADD_HEADERS_FUNCTION", None)
    if base is not None:
        base(headers, path, url)


_static_server = None


def _server():
    global _static_server
    if _static_server is None:
        from whitenoise.middleware import WhiteNoiseMiddleware

        server = WhiteNoiseMiddleware(
            get_response=lambda request: None,
            settings=_OverriddenSettings(WHITENOISE_ADD_HEADERS_FUNCTION=_cross_origin_headers),
        )
        server.badge_prefix = server.static_prefix + "badges/"
        # Only the badge's own files on the badge host; the rest of the static files stay on the staff site.
        server.files = {url: f for url, f in server.files.items() if url.startswith(server.badge_prefix)}
        _static_server = server
    return _static_server


def serve_static(request):
    """``/static/badges/…`` answered by WhiteNoise (hashed names immutable), or None."""
    server = _server()
    if not request.path_info.startswith(server.badge_prefix):
        return None
    return server(request)
