"""URL转发: the public hot path that answers requests for forwarded names.

The middleware runs first, before sessions, authentication and the staff site. It
normalises the ``Host`` header (case, port, trailing dot, Unicode → A-label) and looks
it up in a per-process table: a warm hit answers the redirect from memory with no
database query. The table is invalidated by version: approvals, deletions and the
daily expiry refresh bump a version in the shared cache, and each process checks that
version at most once per ``FORWARDING_CHECK_INTERVAL`` second, so a change is seen
everywhere within a second. A host that is neither forwarded nor one of the staff
site's own names (``SITE_HOSTS``) gets a bare 404 that says nothing about the site.
"""

import threading
import time
import uuid
from collections import OrderedDict
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import idna
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.http.request import validate_host
from django.utils import timezone

VERSION_KEY = "dns:forwarding-version"
MAX_ENTRIES = 100_000
NOT_FOUND_BODY = (
    b'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>404</title></head>'
    b"<body><h1>404</h1><p>\xe6\x9c\xaa\xe6\x89\xbe\xe5\x88\xb0\xe8\xaf\xa5\xe7\xbd\x91\xe7\xab\x99\xe3\x80\x82</p></body></html>"
)  # 未找到该网站。


def bump_version():
    """Every process drops its table at its next version check (within a second)."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


@lru_cache(maxsize=4096)
def normalise_host(raw):
    """``Host`` → lower-case A-labels, no port, no trailing dot; '' when it cannot be a name."""
    if not raw:
        return ""
    try:
        # WSGI hands headers over as latin-1; a browser that sends UTF-8 sent these bytes.
        raw = raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    host = raw.strip()
    if host.startswith("["):  # an IPv6 literal is never a forwarded name
        return host.split("]")[0].lower() + "]"
    if ":" in host:
        host, _, port = host.rpartition(":")
        if not port.isdigit():
            return ""
    host = host.rstrip(".").lower()
    if not host or len(host) > 253:
        return ""
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return ""
    return host


class ForwardingTable:
    """Host → (target, code, keep_path) or None, cached per process, dropped on a new version."""

    def __init__(self):
        self._entries = OrderedDict()
        self._version = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._version = None
            self._checked_at = 0.0

    def lookup(self, host):
        now = time.monotonic()
        if now - self._checked_at >= settings.FORWARDING_CHECK_INTERVAL:
            self._check_version(now)
        try:
            entry = self._entries[host]
        except KeyError:
            entry = load_entry(host)
            with self._lock:
                self._entries[host] = entry
                if len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
        return entry

    def _check_version(self, now):
        version = cache.get(VERSION_KEY)
        if version is None:
            version = uuid.uuid4().hex
            if not cache.add(VERSION_KEY, version, timeout=None):
                version = cache.get(VERSION_KEY)
        with self._lock:
            if version != self._version:
                self._entries.clear()
                self._version = version
            self._checked_at = now


def _zones():
    from registry.domains.names import SUFFIXES

    return {zone: suffix for suffix, zone in SUFFIXES.items()}


def load_entry(host):
    """The effective URL转发 record for ``host`` (exact, else the nearest ``*``), or None."""
    labels = host.split(".")
    if len(labels) < 2:
        return None
    suffix = _zones().get(labels[-1])
    if suffix is None:
        return None
    from .models import DnsRecord, RecordType
    from .zones import in_zone_domains

    alabel = labels[-2]
    below = labels[:-2]
    candidates = [".".join(below) if below else "@"]
    candidates += ["*." + ".".join(below[i:]) if below[i:] else "*" for i in range(1, len(below) + 1)]
    rows = {
        record_host: (value, code, keep)
        for record_host, value, code, keep in DnsRecord.objects.effective()
        .filter(in_zone_domains(suffix, timezone.localdate()), domain__alabel=alabel, rtype=RecordType.URL)
        .filter(host__in=candidates)
        .values_list("host", "value", "redirect_code", "keep_path")
    }
    for candidate in candidates:
        if candidate in rows:
            return rows[candidate]
    return None


table = ForwardingTable()


def location_for(entry, request):
    """The redirect target: the record's URL, with the request's path and query when asked."""
    target, _code, keep_path = entry
    if not keep_path:
        return target
    parts = urlsplit(target)
    path = request.get_full_path().split("?", 1)[0]
    query = request.META.get("QUERY_STRING", "")
    base_path = parts.path.rstrip("/")
    new_path = (base_path + path) if path and path != "/" else (parts.path or "/")
    new_query = "&".join(q for q in (parts.query, query) if q)
    return urlunsplit((parts.scheme, parts.netloc, new_path, new_query, ""))


def redirect(entry, request):
    response = HttpResponse(status=entry[1])
    response["Location"] = location_for(entry, request)
    response["Content-Length"] = "0"
    response["Cache-Control"] = "public, max-age=3600" if entry[1] == 301 else "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def not_found():
    response = HttpResponse(NOT_FOUND_BODY, status=404, content_type="text/html; charset=utf-8")
    response["Content-Length"] = str(len(NOT_FOUND_BODY))
    response["Cache-Control"] = "public, max-age=60"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class HostRoutingMiddleware:
    """First in the chain: forwarded hosts are redirected; the staff site answers only on its own names."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.site_hosts = [h.lower() for h in settings.SITE_HOSTS]

    def __call__(self, request):
        host = normalise_host(request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", ""))
        entry = table.lookup(host) if host else None
        if entry is not None:
            return redirect(entry, request)
        if host and validate_host(host, self.site_hosts):
            return self.get_response(request)
        return not_found()
