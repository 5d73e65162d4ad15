"""URL转发: the public hot path that answers requests for forwarded names.

The middleware runs first, before sessions, authentication and the staff site. It
normalises the ``Host`` header (case, port, trailing dot, Unicode or A-labels) and looks
it up in a per-process table (``conac.hotcache``): a warm hit answers the redirect from memory with no
database query and no cache round trip. The table is invalidated by version: approvals,
deletions and the daily expiry refresh bump a version in the shared cache, and each
process checks that version at most once per ``FORWARDING_CHECK_INTERVAL`` second, so a
change is seen everywhere within a second. The staff site answers only on its own names
(``SITE_HOSTS``, which win over any record); any other host that is not forwarded gets a
bare 404 that says nothing about the site.
"""

import logging
import re
from functools import lru_cache
from urllib.parse import quote, urlsplit, urlunsplit

import idna
from django.conf import settings
from django.http import HttpResponse
from django.http.request import split_domain_port, validate_host
from django.utils import timezone
from django.utils.encoding import escape_uri_path, iri_to_uri
from idna.core import uts46_remap

from conac import hotcache

log = logging.getLogger(__name__)

VERSION_KEY = "dns:forwarding-version"
MAX_ENTRIES = 100_000
MAX_SITE_MEMO = 10_000
NOT_FOUND_BODY = (
    b'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>404</title></head>'
    b"<body><h1>404</h1><p>\xe6\x9c\xaa\xe6\x89\xbe\xe5\x88\xb0\xe8\xaf\xa5\xe7\xbd\x91\xe7\xab\x99\xe3\x80\x82</p></body></html>"
)  # 未找到该网站。
NOT_FOUND_LENGTH = str(len(NOT_FOUND_BODY))
# Letters, digits, hyphen and underscore (service labels), 1–63 octets a label.
_NAME = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*")
# RFC 3986 query characters; ``%`` kept so that escapes the client sent stay as they are.
_QUERY_SAFE = "!$&'()*+,;=:@/?%-._~"


def bump_version():
    """Every process drops its table at its next version check (within a second)."""
    hotcache.bump(VERSION_KEY)


@lru_cache(maxsize=16)
def url_host(url):
    """The host of a base-URL setting (``BADGE_BASE_URL``, ``RDAP_BASE_URL``) as ``normalise_host``
    gives it, worked out once per value."""
    return normalise_host(urlsplit(url).netloc)


@lru_cache(maxsize=4096)
def normalise_host(raw):
    """``Host`` → lower-case A-labels, no port, no trailing dot; an IPv6 literal in brackets;
    '' when it cannot be a host name."""
    if not raw:
        return ""
    try:
        # WSGI hands headers over as latin-1; a browser that sends UTF-8 sent these bytes.
        raw = raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    host = raw.strip().lower()
    if host.startswith("["):  # an IPv6 literal is never a forwarded name, but may be a site host
        domain, _port = split_domain_port(host)
        return domain
    if ":" in host:
        host, _, port = host.rpartition(":")
        if not port.isdigit():
            return ""
    host = host.rstrip(".")
    if not host.isascii():
        try:
            # UTS 46 mapping (full-width letters and dots, case), then each Unicode label as an A-label.
            mapped = uts46_remap(host, std3_rules=False, transitional=False).rstrip(".")
            host = ".".join(
                label if label.isascii() else idna.alabel(label).decode("ascii") for label in mapped.split(".")
            )
        except (idna.IDNAError, UnicodeError, ValueError):
            return ""
    if len(host) > 253 or not _NAME.fullmatch(host):
        return ""
    return host


class Forward:
    """One effective URL转发 record, ready to answer: the parts of its target, precomputed."""

    __slots__ = ("code", "location", "origin", "path", "base_path", "base_query", "cache_control")

    def __init__(self, target, code, keep_path):
        scheme, netloc, path, query = target
        self.code = code
        # keep_path False: the same Location for every request.
        self.location = None if keep_path else urlunsplit((scheme, netloc, path or "/", query, ""))
        self.origin = f"{scheme}://{netloc}"
        self.path = path or "/"
        self.base_path = path.rstrip("/")
        self.base_query = query
        # Browsers keep a 301 without an expiry for good; an hour lets a corrected record win.
        self.cache_control = "public, max-age=3600" if code == 301 else "no-store"

    def location_for(self, request):
        if self.location is not None:
            return self.location
        path = request.path
        # "/" is the target as it is; any other path is appended to the target's path.
        path = self.path if path == "/" else self.base_path + escape_uri_path(path)
        query = request.META.get("QUERY_STRING", "")
        if query:
            try:
                raw = query.encode("latin-1")  # the bytes the client sent (WSGI)
            except UnicodeEncodeError:
                raw = query.encode("utf-8")
            query = quote(raw, safe=_QUERY_SAFE)
            query = f"{self.base_query}&{query}" if self.base_query else query
        else:
            query = self.base_query
        return f"{self.origin}{path}?{query}" if query else f"{self.origin}{path}"

    def __repr__(self):
        return f"<Forward {self.code} {self.origin}{self.base_path} keep_path={self.location is None}>"


def ascii_target(value):
    """The stored target as ASCII (scheme, netloc, path, query), or None when it is not usable.

    Targets are stored cleaned (``values.clean_url``); this is the last guard before a header.
    """
    try:
        parts = urlsplit((value or "").strip())
        scheme = parts.scheme.lower()
        hostname = parts.hostname or ""
        port = parts.port
    except ValueError:
        return None
    if scheme not in ("http", "https") or not hostname or "@" in parts.netloc:
        return None
    if ":" in hostname:
        host = f"[{hostname}]"
    elif hostname.isascii():
        host = hostname
    else:
        try:
            host = idna.encode(hostname, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return None
    netloc = host + (f":{port}" if port else "")
    path, query = iri_to_uri(parts.path), iri_to_uri(parts.query)
    if not (path + query).isascii():
        return None
    return scheme, netloc, path, query


_zones_cache = None


def _zones():
    """Zone A-label → suffix (``{"xn--zfr164b": ".政务"}``)."""
    global _zones_cache
    if _zones_cache is None:
        from registry.domains.names import SUFFIXES

        _zones_cache = {zone: suffix for suffix, zone in SUFFIXES.items()}
    return _zones_cache


def candidates_for(host):
    """(suffix, domain A-label, record hosts to try, best first) for a name in one of our zones, else None."""
    labels = host.split(".")
    if len(labels) < 2:
        return None
    suffix = _zones().get(labels[-1])
    if suffix is None:
        return None
    below = labels[:-2]
    if not below:
        return suffix, labels[-2], ["@"]
    # The exact host, then the nearest wildcard: a.b → a.b, *.b, *.
    hosts = [".".join(below)] + ["*." + ".".join(below[i:]) for i in range(1, len(below))] + ["*"]
    return suffix, labels[-2], hosts


def load_entry(host):
    """The effective URL转发 record for ``host`` (exact, else the nearest ``*``) as a Forward, or None."""
    found = candidates_for(host)
    if found is None:
        return None
    suffix, alabel, hosts = found
    from .models import DnsRecord, RecordType
    from .zones import in_zone_domains

    rows = {
        record_host: (value, code, keep)
        for record_host, value, code, keep in DnsRecord.objects.effective()
        .filter(in_zone_domains(suffix, timezone.localdate()), domain__alabel=alabel, rtype=RecordType.URL)
        .filter(host__in=hosts)
        .values_list("host", "value", "redirect_code", "keep_path")
    }
    for candidate in hosts:
        if candidate in rows:
            value, code, keep = rows[candidate]
            target = ascii_target(value)
            if target is None:
                log.warning("URL转发 record of %s has an unusable target %r", host, value)
                return None
            return Forward(target, 302 if code == 302 else 301, keep)
    return None


class ForwardingTable(hotcache.VersionedTable):
    """Host → Forward or None (negative entries too), per process, dropped on a new version."""

    def __init__(self):
        super().__init__(
            VERSION_KEY,
            interval=lambda: settings.FORWARDING_CHECK_INTERVAL,
            max_entries=MAX_ENTRIES,
            name="URL转发: forwarding",
        )

    def lookup(self, host):
        entry = self.peek(host)
        if entry is not hotcache.MISSING:
            return entry
        if candidates_for(host) is None:
            return None  # not in our zones: nothing to cache, nothing to ask the database
        # load_entry looked up at call time (tests replace it).
        return self.fill(host, lambda: load_entry(host))


table = ForwardingTable()


def redirect(entry, request):
    response = HttpResponse(status=entry.code)
    response["Location"] = entry.location_for(request)
    response["Content-Length"] = "0"
    response["Cache-Control"] = entry.cache_control
    response["X-Content-Type-Options"] = "nosniff"
    return response


def not_found():
    response = HttpResponse(NOT_FOUND_BODY, status=404)
    response["Content-Length"] = NOT_FOUND_LENGTH
    response["Cache-Control"] = "public, max-age=60"
    response["X-Content-Type-Options"] = "nosniff"
    # Any host name can be sent by anyone: not an error of the site, so not a log line each.
    response._has_been_logged = True
    return response


def site_pattern(entry):
    """A ``SITE_HOSTS`` entry (``name``, ``.name`` for the name and below, ``*``) in A-labels."""
    entry = entry.strip()
    if entry == "*":
        return entry
    dot = "." if entry.startswith(".") else ""
    return dot + (normalise_host(entry.lstrip(".")) or entry.lstrip(".").lower())


# Further public sites answered by Host, tried after URL转发 misses (apps that build on
# registry append theirs in AppConfig.ready: badges serves 网络红页 at a unit's own domain).
# Each is fn(host, request) → an HttpResponse, or None when the host is not theirs.
HOST_HANDLERS = []


class HostRoutingMiddleware:
    """First in the chain: forwarded hosts redirected; the staff site on its own names; others a bare 404.

    A staff name written out in ``SITE_HOSTS`` wins over any record, so no record can take
    the staff site's own name; patterns (``.example.cn``, ``*``) are tried after the records.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        # In the form normalise_host() gives (A-labels), so a Unicode name in SITE_HOSTS matches too.
        self.site_hosts = [site_pattern(h) for h in settings.SITE_HOSTS]
        self.exact_site_hosts = frozenset(h for h in self.site_hosts if h and h[0] not in ".*")
        self._site_memo = {}

    def is_site_host(self, host):
        site = self._site_memo.get(host)
        if site is None:
            site = bool(host) and validate_host(host, self.site_hosts)
            if len(self._site_memo) >= MAX_SITE_MEMO:
                self._site_memo.clear()
            self._site_memo[host] = site
        return site

    def __call__(self, request):
        meta = request.META
        # As Django's get_host(): a Host header, even an empty one, else the server's name.
        host = normalise_host(meta["HTTP_HOST"] if "HTTP_HOST" in meta else meta.get("SERVER_NAME", ""))
        if host in self.exact_site_hosts:
            return self.get_response(request)
        entry = table.lookup(host) if host else None
        if entry is not None:
            return redirect(entry, request)
        if self.is_site_host(host):
            return self.get_response(request)
        for handler in HOST_HANDLERS:
            response = handler(host, request)
            if response is not None:
                return response
        return not_found()
