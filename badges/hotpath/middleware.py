"""Answering the badge's public URLs first, from process memory.

``BadgePublicMiddleware`` sits right after ``HostRoutingMiddleware``: on the staff site's
own host names it answers the badge paths before sessions, authentication and URL
resolution. The badge host itself (``BADGE_BASE_URL``, not one of ``SITE_HOSTS``) is
answered through the routing middleware's ``HOST_HANDLERS``: only the badge paths and
``/static/badges/…``; anything else there is the routing middleware's bare 404.

Every response carries its own ``Content-Length``, caching headers, ETag (a matching
``If-None-Match`` gets a 304) and ``X-Content-Type-Options: nosniff``; nothing here
reads or sets a cookie.
"""

from django.conf import settings
from django.http import HttpResponse

from registry.dns import forwarding

from . import assets, entries, hosts, paths

SCRIPT_CACHE = "public, max-age=300, stale-while-revalidate=3600"
UNKNOWN_SCRIPT_CACHE = "public, max-age=60"
CERTIFICATE_CACHE = "public, max-age=60"
JAVASCRIPT = "application/javascript; charset=utf-8"
# The certificate page loads nothing but its own image; nobody may frame it.
CERTIFICATE_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
CROSS_ORIGIN = (("Cross-Origin-Resource-Policy", "cross-origin"), ("X-Content-Type-Options", "nosniff"))
CERTIFICATE_HEADERS = (
    ("Content-Security-Policy", CERTIFICATE_CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    # The page says whether the visitor came from one of the badge's own sites.
    ("Vary", "Referer"),
)
NOT_FOUND_BODY = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>404</title></head>'
    "<body><h1>404</h1><p>未找到该标识证书。</p></body></html>"
).encode()


def etag_matches(header, etag):
    if not header:
        return False
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


def respond(request, body, etag, content_type, cache_control, headers=CROSS_ORIGIN):
    if etag_matches(request.META.get("HTTP_IF_NONE_MATCH"), etag):
        response = HttpResponse(status=304)
        del response["Content-Type"]
    else:
        response = HttpResponse(b"" if request.method == "HEAD" else body, content_type=content_type)
        response["Content-Length"] = str(len(body))
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    for name, value in headers:
        response[name] = value
    return response


def not_found():
    response = HttpResponse(NOT_FOUND_BODY, status=404, content_type="text/html; charset=utf-8")
    response["Content-Length"] = str(len(NOT_FOUND_BODY))
    response["Cache-Control"] = "public, max-age=60"
    response["X-Content-Type-Options"] = "nosniff"
    response._has_been_logged = True  # anyone can ask for any id: not an error of the site
    return response


def method_not_allowed():
    response = HttpResponse(status=405)
    response["Allow"] = "GET, HEAD"
    response["Content-Length"] = "0"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def script(request, code):
    badge = entries.by_code(code)
    if badge is None:
        # A valid script that draws nothing and logs nothing (a 404 would log in the console).
        return respond(request, entries.UNKNOWN_SCRIPT, entries.UNKNOWN_SCRIPT_ETAG, JAVASCRIPT, UNKNOWN_SCRIPT_CACHE)
    return respond(request, badge.script, badge.script_etag, JAVASCRIPT, SCRIPT_CACHE)


def image(request, code):
    badge = entries.by_code(code)
    body, etag = assets.image(badge.image_name if badge is not None else assets.UNKNOWN_IMAGE)
    return respond(request, body, etag, "image/png", SCRIPT_CACHE)


def certificate(request, certificate_id):
    badge = entries.by_certificate(certificate_id)
    if badge is None:
        return not_found()
    shown_on = hosts.referer_host(request.META.get("HTTP_REFERER"))
    on_red_page = any(shown_on == name for name, _ in badge.pages)
    if shown_on and not hosts.host_matches(shown_on, badge.hosts) and shown_on != badge_host() and not on_red_page:
        body, etag = badge.certificate_with_warning(shown_on)
    else:
        body, etag = badge.certificate_page
    return respond(request, body, etag, "text/html; charset=utf-8", CERTIFICATE_CACHE, CERTIFICATE_HEADERS)


def answer(request):
    """The response for a badge path, or None when the path is not one."""
    path = request.path_info
    if not path.startswith(paths.PREFIXES):
        return None
    if path.startswith("/js/"):
        code = paths.code_of_script_path(path)
        handler, argument = (script, code) if code else (None, None)
    elif path.startswith("/img/"):
        match = paths.IMAGE.fullmatch(path)
        handler, argument = (image, match.group(1)) if match else (None, None)
    else:
        match = paths.CERTIFICATE.fullmatch(path)
        handler, argument = (certificate, match.group(1)) if match else (None, None)
    if handler is None:
        return None
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed()
    return handler(request, argument)


def badge_host():
    """``BADGE_BASE_URL``'s host as the routing middleware normalises hosts."""
    return forwarding.url_host(settings.BADGE_BASE_URL)


def serve_badge_host(host, request):
    """``HOST_HANDLERS`` entry: everything the badge host answers (else the bare 404)."""
    if host != badge_host():
        return None
    response = answer(request)
    if response is None and request.method in ("GET", "HEAD"):
        response = assets.serve_static(request)
    return response if response is not None else forwarding.not_found()


class BadgePublicMiddleware:
    """Right after HostRoutingMiddleware: the badge paths on the staff site's hosts, and the badge host's handler."""

    def __init__(self, get_response):
        self.get_response = get_response
        if serve_badge_host not in forwarding.HOST_HANDLERS:
            # First: one comparison decides, and the badge host is the busiest of them.
            forwarding.HOST_HANDLERS.insert(0, serve_badge_host)

    def __call__(self, request):
        response = answer(request)
        return response if response is not None else self.get_response(request)
