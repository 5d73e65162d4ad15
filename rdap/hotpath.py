"""RDAP under ``/rdap/``, answered first, from process memory (RFC 7480, RFC 9082).

``RdapMiddleware`` sits after the badge's hot path: on the staff site's hosts it answers
``/rdap/…`` before sessions, authentication and URL resolution; on the host of
``RDAP_BASE_URL`` (when that is not one of ``SITE_HOSTS``) the routing middleware's
``HOST_HANDLERS`` entry answers ``/rdap/…`` and nothing else.

A lookup (``domain/<name>``, ``entity/<handle>``, ``help``) is kept per process as the
finished response bytes, under the path as it was asked and under the canonical name, in a
``conac.hotcache`` table dropped within ``RDAP_CHECK_INTERVAL`` of a change (``freshness``):
a warm hit is a dict lookup, no query, no cache round trip. A miss runs a fixed number of
queries (``records``) and counts against the client address's rate limit, as every search
does (``domains?name=``); over the limit the answer is 429 with ``Retry-After``.
"""

import base64
import binascii
import hashlib
import json
import time
from urllib.parse import quote, urlencode

from django.conf import settings
from django.http import HttpResponse

from conac import hotcache, ratelimit
from registry.dns import forwarding

from . import documents, freshness, names, records

PREFIX = "/rdap/"
RATE_SCOPE = "rdap"
NOT_OFFERED = ("ip", "autnum", "nameserver", "nameservers", "entities")


class Answer:
    """A finished RDAP response: status, body bytes, ETag and Cache-Control, plus what it was built from."""

    __slots__ = ("status", "body", "etag", "cache_control", "length", "public", "built_at")

    def __init__(self, status, document, *, cache_control=None, public=None):
        self.status = status
        self.body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.length = str(len(self.body))
        self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:24] + '"'
        self.cache_control = cache_control or f"public, max-age={settings.RDAP_HTTP_MAX_AGE}"
        self.public = public
        self.built_at = time.monotonic()

    def __repr__(self):
        return f"<Answer {self.status} {self.length} bytes>"


class AnswerTable(hotcache.VersionedTable):
    """Lookup key → Answer, per process; dropped on a new version, entries older than the max age reloaded."""

    def __init__(self):
        super().__init__(
            *freshness.WATCHED,
            interval=lambda: settings.RDAP_CHECK_INTERVAL,
            max_entries=200_000,
            name="RDAP",
        )

    def fresh(self, key):
        answer = self.peek(key)
        if answer is hotcache.MISSING or time.monotonic() - answer.built_at > settings.RDAP_MAX_ENTRY_AGE:
            return None
        return answer


table = AnswerTable()


# --- responses ----------------------------------------------------------------------------


def etag_matches(header, etag):
    return bool(header) and any(c.strip() in (etag, "W/" + etag, "*") for c in header.split(","))


def respond(request, answer, *, extra_headers=()):
    if answer.status == 200 and etag_matches(request.META.get("HTTP_IF_NONE_MATCH"), answer.etag):
        response = HttpResponse(status=304)
        del response["Content-Type"]
    else:
        body = b"" if request.method == "HEAD" else answer.body
        response = HttpResponse(body, status=answer.status, content_type=documents.RDAP_MEDIA_TYPE)
        response["Content-Length"] = answer.length
    response["ETag"] = answer.etag
    response["Cache-Control"] = answer.cache_control
    response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    for name, value in extra_headers:
        response[name] = value
    if answer.status >= 400:
        response._has_been_logged = True  # anyone can ask anything: not an error of the site
    return response


def error_answer(status, description, *, cache=True, extra_notices=()):
    control = f"public, max-age={settings.RDAP_HTTP_MAX_AGE}" if cache else "no-store"
    return Answer(status, documents.error(status, description, extra_notices=extra_notices), cache_control=control)


def too_many(request, wait):
    answer = error_answer(
        429, f"查询过于频繁，请 {wait} 秒后再试。Too many queries; retry after {wait} s.", cache=False
    )
    return respond(request, answer, extra_headers=(("Retry-After", str(wait)),))


class Limited:
    """A query refused by the rate limit: ``wait`` seconds until the client may ask again."""

    __slots__ = ("wait",)

    def __init__(self, wait):
        self.wait = wait


def limited(request):
    """Count one database-reaching query of this client: a Limited when it is over the limit, else None."""
    wait = over_limit(request)
    return Limited(wait) if wait else None


def over_limit(request):
    """Count one database-reaching query of this client; seconds to wait when over the limit, else 0."""
    return ratelimit.hit(
        RATE_SCOPE,
        ratelimit.client_address(request),
        limit=settings.RDAP_RATE_LIMIT,
        window=settings.RDAP_RATE_WINDOW,
    )


# --- lookups --------------------------------------------------------------------------------


def domain_answer(name):
    """The Answer for a parsed name (found or 404), from the table or built (queries: ``records.load_domain``)."""
    key = ("domain", name.label, name.suffix)
    answer = table.fresh(key)
    if answer is None:
        answer = table.fill(key, lambda: build_domain_answer(name))
    return answer


def build_domain_answer(name):
    public = records.load_domain(name.label, name.suffix)
    if public is None:
        return error_answer(404, f"“{name.unicode_name}”（{name.ldh_name}）未注册。This name is not registered.")
    return Answer(200, documents.domain(public), public=public)


def parse_domain(raw):
    """(Name, None) or (None, error Answer) for the text after ``domain/``."""
    try:
        return names.parse(raw), None
    except names.Malformed as exc:
        return None, error_answer(400, f"{exc}。Malformed domain name.")
    except names.NotOurs as exc:
        return None, error_answer(
            404, f"{exc}。Not a name in this registry.", extra_notices=(documents.not_ours_notice(),)
        )


def lookup_domain(request, raw):
    name, failed = parse_domain(raw)
    if failed is not None:
        return failed
    if table.fresh(("domain", name.label, name.suffix)) is None:
        refused = limited(request)
        if refused:
            return refused
    return domain_answer(name)


def lookup_entity(request, handle):
    key = ("entity", handle)
    answer = table.fresh(key)
    if answer is None:
        refused = limited(request) if handle != records.CONAC_HANDLE else None
        if refused:
            return refused
        answer = table.fill(key, lambda: build_entity_answer(handle))
    return answer


def build_entity_answer(handle):
    found = records.load_entity(handle)
    if found is None:
        return error_answer(404, "没有这个实体。No such entity.")
    return Answer(200, documents.entity(found, handle))


def help_answer():
    answer = table.fresh(("help",))
    return answer or table.fill(("help",), lambda: Answer(200, documents.help_document()))


# --- search ---------------------------------------------------------------------------------


def _cursor_page(cursor):
    if not cursor:
        return 1
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii") + b"==").decode("ascii")
        page = int(text.removeprefix("p="))
    except (ValueError, UnicodeError, binascii.Error):
        return None
    return page if text.startswith("p=") and page >= 1 else None


def _cursor(page):
    return base64.urlsafe_b64encode(f"p={page}".encode("ascii")).decode("ascii").rstrip("=")


def parse_pattern(raw):
    """``name`` of a domain search → (prefix, column, suffixes); raises Malformed or NotOurs.

    ``北京*``, ``北京*.政务``, ``xn--abc*``: a prefix of the second-level label, Unicode or
    A-label, under either TLD or the one given; without ``*`` the exact name.
    """
    text = (raw or "").strip()
    if text.count("*") > 1:
        raise names.Malformed("只支持前缀查询：星号“*”只能出现一次，在域名第一段的末尾，如 北京*.政务")
    head, star, tail = text.partition("*")
    if star and tail and not tail.startswith("."):
        raise names.Malformed("只支持前缀查询：星号“*”只能出现在域名第一段的末尾，如 北京*.政务")
    mapped = names.remap(head + tail) if not star else names.remap((head or "x") + tail)
    labels = mapped.split(".")
    if len(labels) > 2:
        raise names.NotOurs("本注册系统只登记二级域名（如 某某.政务）")
    suffixes = list(records.SUFFIXES)
    if len(labels) == 2:
        suffix = names.suffix_of(labels[1])
        if suffix is None:
            raise names.NotOurs(f"“{text}”不在 .政务 或 .公益 之下")
        suffixes = [suffix]
    if not star:
        ulabel, _ = names.to_ulabel(labels[0])
        return ulabel, "exact", suffixes
    prefix = labels[0] if head else ""
    if prefix.startswith("xn--"):
        if len(prefix) < 5 or not all(c.isascii() and (c.isalnum() or c == "-") for c in prefix):
            raise names.Malformed("A-label 前缀在“xn--”之后至少要有一个字母或数字")
        return prefix, "alabel", suffixes
    if not prefix or (prefix.isascii() and len(prefix) < 2):
        raise names.Malformed("前缀太短：至少一个汉字或两个英文字母、数字")
    for char in prefix:
        if char != "-" and not names.is_label_char(char):
            raise names.Malformed(f"域名中不能有“{char}”")
    return prefix, "label", suffixes


def search(request):
    raw = request.GET.get("name")
    if raw is None:
        if set(request.GET) & {"nsLdhName", "nsIp"}:
            return error_answer(501, "只支持按域名查找（domains?name=）。Only name searches are offered.")
        return error_answer(400, "缺少参数 name。Missing the name parameter.")
    refused = limited(request)
    if refused:
        return refused
    try:
        prefix, column, suffixes = parse_pattern(raw)
    except names.Malformed as exc:
        return error_answer(400, f"{exc}。Malformed search pattern.")
    except names.NotOurs as exc:
        return error_answer(404, f"{exc}。", extra_notices=(documents.not_ours_notice(),))
    page = _cursor_page(request.GET.get("cursor"))
    if page is None:
        return error_answer(400, "cursor 参数无效。Invalid cursor.")
    size = settings.RDAP_SEARCH_PAGE_SIZE
    cap = settings.RDAP_SEARCH_MAX_RESULTS
    offset = (page - 1) * size
    if offset >= cap:
        return error_answer(400, "超出结果上限。Beyond the result cap.")
    limit = min(size, cap - offset)
    if column == "exact":
        matches, more = (records.load_matches(prefix, suffixes) if page == 1 else []), False
    else:
        rows = records.search(prefix, column=column, suffixes=suffixes, offset=offset, limit=limit + 1)
        matches, more = rows[:limit], len(rows) > limit
    truncated = more and offset + limit >= cap
    query = {"name": raw}
    self_url = documents.url_of("domains?" + urlencode(query, quote_via=quote))
    next_url = ""
    if more and not truncated:
        next_url = documents.url_of("domains?" + urlencode({**query, "cursor": _cursor(page + 1)}, quote_via=quote))
    document = documents.search(matches, self_url=self_url, next_url=next_url, page_size=size, truncated=truncated)
    return Answer(200, document, cache_control="no-store")


# --- dispatch -------------------------------------------------------------------------------


def method_not_allowed(request):
    response = respond(request, error_answer(405, "只支持 GET 和 HEAD。Only GET and HEAD."))
    response["Allow"] = "GET, HEAD"
    return response


def preflight():
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Accept, If-None-Match"
    response["Access-Control-Max-Age"] = "86400"
    response["Content-Length"] = "0"
    return response


def route(request, rest):
    """The Answer for ``/rdap/<rest>``, or Limited when the client is over its rate limit."""
    kind, slash, value = rest.partition("/")
    if kind == "domain" and slash and value:
        return lookup_domain(request, value)
    if kind == "entity" and slash and value:
        return lookup_entity(request, value)
    if kind == "help" and not value:
        return help_answer()
    if kind == "domains" and not slash:
        return search(request)
    if kind in NOT_OFFERED:
        return error_answer(501, f"本服务不提供 {kind} 查询。This query type is not offered.")
    return error_answer(400, "不是有效的 RDAP 查询。Not an RDAP query.")


def answer(request):
    """The response for an RDAP path, or None when the path is not one."""
    path = request.path_info
    if not path.startswith(PREFIX):
        return None
    if request.method == "OPTIONS":
        return preflight()
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed(request)
    rest = path[len(PREFIX) :]
    # Warm hit: the path exactly as asked before (whatever its case or form).
    known = table.fresh(("path", rest)) if not request.META.get("QUERY_STRING") else None
    if known is not None:
        return respond(request, known)
    result = route(request, rest)
    if isinstance(result, Limited):
        return too_many(request, result.wait)
    if result.status in (200, 404) and result.cache_control != "no-store" and not request.META.get("QUERY_STRING"):
        table.fill(("path", rest), lambda: result)
    return respond(request, result)


# --- the dedicated host -----------------------------------------------------------------------


def rdap_host():
    """``RDAP_BASE_URL``'s host as the routing middleware normalises hosts."""
    return forwarding.url_host(settings.RDAP_BASE_URL)


def serve_rdap_host(host, request):
    """``HOST_HANDLERS`` entry: the RDAP host answers ``/rdap/…`` and a bare 404 for anything else."""
    if host != rdap_host():
        return None
    response = answer(request)
    return response if response is not None else forwarding.not_found()


class RdapMiddleware:
    """After the badge's hot path: ``/rdap/…`` on the staff site's hosts; the RDAP host's handler."""

    def __init__(self, get_response):
        self.get_response = get_response
        if serve_rdap_host not in forwarding.HOST_HANDLERS:
            forwarding.HOST_HANDLERS.append(serve_rdap_host)

    def __call__(self, request):
        response = answer(request)
        return response if response is not None else self.get_response(request)
