"""挂标检查's fetcher: read a badge's 网站首页地址 and look for the snippet with the badge's code.

The address is typed by a unit, so the fetch is an SSRF risk: it must never reach the
registry's own network. Every hop (the first request and each redirect, followed by hand,
at most ``MAX_REDIRECTS``) resolves its host once, refuses the whole hop when any
address is private, loopback, link-local, shared (CGNAT), multicast, reserved or
unspecified (IPv4 and IPv6, IPv4 embedded in IPv6 included), and then connects to the
vetted address itself, sending the name in ``Host`` and in TLS SNI and verifying the
certificate against the name. A second resolution (DNS rebinding) never happens, so
the address checked is the address used.

Size and time are capped: the body is read in chunks up to ``HANG_CHECK_MAX_BYTES`` (the
rest is cut and the result says so); each connection has ``HANG_CHECK_CONNECT_TIMEOUT``,
and the whole fetch, redirects included, ``HANG_CHECK_TIMEOUT`` (checked between reads;
one read waits at most the time left). Bodies are asked for uncompressed so the cap
counts what is searched and a compressed bomb cannot blow up in memory. Name lookups use
the system resolver, bounded by its own timeouts (resolv.conf), not by these.

``HANG_CHECK_ALLOWED_NETWORKS`` lets listed networks through the address check; it exists
for the tests' local server (127.0.0.1/32) and stays empty in production.
"""

import ipaddress
import re
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit

import certifi
import idna
import urllib3
from django.conf import settings

MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "Mozilla/5.0 (compatible; CONAC-HangCheck/1.0)"
NOTE_MAX = 500

SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # CGNAT, RFC 6598
# The well-known NAT64 prefix (RFC 6052): behind DNS64 every IPv4-only site has such an
# address, so it is judged by the IPv4 address it carries. (64:ff9b:1::/48 is not global.)
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")

# An absolute or protocol-relative URL that names a badge code somewhere in its path:
# the script ``/js/PP/CCC/DDDD/NNNNNNNN/CA….js`` and the no-JavaScript image alike.
BADGE_URL = re.compile(rb"(?:https?:)?//([A-Za-z0-9.\-]+)(?::\d{1,5})?/[^\s\"'<>()]*?(CA\d{21})(?!\d)", re.IGNORECASE)


class Refused(Exception):
    """The address is one the check does not visit; the message is the Chinese note."""


@dataclass
class Fetched:
    """What one fetch saw: the last response's status, the bytes read, and any failure."""

    url: str
    final_url: str = ""
    status: int | None = None
    body: bytes = b""
    bytes_read: int = 0
    cut: bool = False
    error: str = ""
    hops: list = field(default_factory=list)


@dataclass
class CheckResult:
    found: bool
    note: str
    http_status: int | None
    bytes_read: int
    url: str


# --- Addresses ---------------------------------------------------------------------------------


def _allowed_networks():
    return [ipaddress.ip_network(n, strict=False) for n in getattr(settings, "HANG_CHECK_ALLOWED_NETWORKS", [])]


def _embedded_ipv4(ip):
    """The IPv4 address an IPv6 address carries (mapped, 6to4), if any."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip.sixtofour


def is_public_address(ip):
    """Whether ``ip`` is an ordinary public unicast address (and so is whatever it embeds)."""
    ip = ipaddress.ip_address(ip)
    if ip.version == 6 and ip in NAT64_PREFIX:
        return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
        or (ip.version == 4 and ip in SHARED_ADDRESS_SPACE)
        or (ip.version == 6 and ip.is_site_local)
    ):
        return False
    embedded = _embedded_ipv4(ip)
    return embedded is None or is_public_address(embedded)


def permitted(ip):
    ip = ipaddress.ip_address(ip)
    if any(ip in network for network in _allowed_networks()):
        return True
    return is_public_address(ip)


def _getaddrinfo(host, port):
    """The system resolver (a seam for the tests, which map test names to 127.0.0.1)."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def resolve(host, port):
    """The host's addresses, every one vetted; raise Refused when any of them is not public."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = _getaddrinfo(host, port)
        except (OSError, UnicodeError) as exc:
            raise Refused(f"无法解析主机名 {host}") from exc
        addresses = []
        for info in infos:
            ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
            if ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise Refused(f"无法解析主机名 {host}")
    # One bad address refuses the host: an attacker's name may list a public address first.
    for ip in addresses:
        if not permitted(ip):
            raise Refused(f"{host} 指向内网、本机或保留地址（{ip}），不予访问")
    return [str(ip) for ip in addresses]


# --- URLs --------------------------------------------------------------------------------------


@dataclass
class Target:
    scheme: str
    host: str  # ASCII (A-labels), lower case, no brackets
    port: int
    path: str

    @property
    def host_header(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def url(self):
        return f"{self.scheme}://{self.host_header}{self.path}"


def parse_target(url):
    """The scheme, ASCII host, port and path of ``url``; Refused for anything but http(s)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Refused("网站首页地址格式不正确") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused("只检查 http 或 https 开头的网站首页地址")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("网站首页地址缺少主机名")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise Refused(f"主机名 {host} 不是有效的域名") from exc
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    # The request line is ASCII: a path typed in Chinese is sent percent-encoded (UTF-8).
    path = quote(path, safe="/:@!$&'()*+,;=%?~-._")
    return Target(scheme, host.lower(), port or (443 if scheme == "https" else 80), path)


# --- Fetching ----------------------------------------------------------------------------------


def _pool(target, ip, timeout):
    if target.scheme == "https":
        name = target.host
        return urllib3.HTTPSConnectionPool(
            ip,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=getattr(settings, "HANG_CHECK_CA_BUNDLE", "") or certifi.where(),
            server_hostname=name,
            assert_hostname=name,
        )
    return urllib3.HTTPConnectionPool(ip, target.port, timeout=timeout, retries=False, maxsize=1)


def _open(target, addresses, deadline):
    """The response of the first vetted address that accepts the connection."""
    connect_timeout = float(getattr(settings, "HANG_CHECK_CONNECT_TIMEOUT", 5.0))
    headers = {
        "Host": target.host_header,
        "User-Agent": USER_AGENT,
        "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
        "Accept-Encoding": "identity",
        "Connection": "close",
    }
    last_error = None
    for ip in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        timeout = urllib3.Timeout(connect=min(connect_timeout, remaining), read=remaining)
        pool = _pool(target, ip, timeout)
        try:
            response = pool.urlopen(
                "GET",
                target.path,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.SSLError as exc:
            pool.close()
            raise Refused(f"{target.host} 的 HTTPS 证书校验失败") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            pool.close()
            last_error = exc
            continue
        return response, pool
    if isinstance(last_error, urllib3.exceptions.NewConnectionError):  # a subclass of ConnectTimeoutError
        raise Refused(f"无法连接 {target.host_header}")
    if isinstance(last_error, urllib3.exceptions.ConnectTimeoutError) or last_error is None:
        raise Refused(f"连接 {target.host_header} 超时")
    if isinstance(last_error, urllib3.exceptions.ReadTimeoutError):
        raise Refused(f"{target.host_header} 响应超时")
    raise Refused(f"无法连接 {target.host_header}")


def _read_body(response, deadline, max_bytes):
    """Up to ``max_bytes`` of the body, a chunk at a time: (body, cut, error note)."""
    body = bytearray()
    try:
        while len(body) < max_bytes:
            if time.monotonic() >= deadline:
                return bytes(body), False, f"读取网站首页超时（已读取 {_size(len(body))}）"
            # read1: one receive at a time, so a server trickling bytes meets the deadline.
            chunk = response.read1(min(CHUNK_BYTES, max_bytes - len(body)))
            if not chunk:
                return bytes(body), False, ""
            body += chunk
        # Full: one more byte says whether the page was cut.
        return bytes(body), bool(response.read1(1)), ""
    except urllib3.exceptions.ReadTimeoutError:
        return bytes(body), False, f"读取网站首页超时（已读取 {_size(len(body))}）"
    except (urllib3.exceptions.HTTPError, OSError):
        return bytes(body), False, "网站首页的响应不完整"


def _header_text(value):
    """A header http.client read as Latin-1, as the UTF-8 most servers send for a Chinese path."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _size(n):
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    if n >= 1024:
        return f"{n // 1024} KB"
    return f"{n} 字节"


def fetch(url, *, max_bytes=None, timeout=None):
    """GET ``url`` under the caps, following redirects by hand; never raises for the site's faults."""
    max_bytes = max_bytes or int(getattr(settings, "HANG_CHECK_MAX_BYTES", 2 * 1024 * 1024))
    deadline = time.monotonic() + float(timeout or getattr(settings, "HANG_CHECK_TIMEOUT", 15.0))
    result = Fetched(url=url)
    current = url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            target = parse_target(current)
            result.hops.append(target.url)
            result.final_url = target.url
            addresses = resolve(target.host, target.port)
            response, pool = _open(target, addresses, deadline)
            try:
                result.status = response.status
                location = response.headers.get("Location")
                if response.status in REDIRECT_STATUSES and location:
                    current = urljoin(target.url, _header_text(location).strip())
                    continue
                encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
                body, cut, error = _read_body(response, deadline, max_bytes)
                result.body, result.bytes_read, result.cut = body, len(body), cut
                if error:
                    result.error = error
                elif encoding not in ("", "identity"):
                    result.error = f"网站返回了压缩内容（{encoding}），无法检查"
                return result
            finally:
                response.release_conn()
                response.close()
                pool.close()
        result.error = f"重定向超过 {MAX_REDIRECTS} 次"
    except Refused as exc:
        result.error = str(exc)
    return result


# --- The snippet -------------------------------------------------------------------------------


def badge_hosts():
    """The hosts that serve badge scripts and images (the snippet's own host)."""
    return {(urlsplit(settings.BADGE_BASE_URL).hostname or "").lower()}


def find_code(body, code):
    """(found, note): whether ``body`` carries a badge URL on the badge host naming ``code``."""
    hosts = badge_hosts()
    other_codes, elsewhere = [], []
    for match in BADGE_URL.finditer(body):
        host = match.group(1).decode("ascii").lower().rstrip(".")
        seen = match.group(2).decode("ascii").upper()
        if host not in hosts:
            if seen == code:
                elsewhere.append(host)
            continue
        if seen == code:
            return True, f"找到标识代码（{code}）"
        if seen not in other_codes:
            other_codes.append(seen)
    if other_codes:
        return False, f"未找到本标识代码：页面上找到的是另一个标识编号 {'、'.join(other_codes[:3])}"
    if elsewhere:
        return False, f"未找到本标识代码：页面引用的标识地址在 {elsewhere[0]}，不是 {sorted(hosts)[0]}"
    return False, "未找到标识代码"


def check_page(url, code):
    """Fetch ``url`` and look for ``code``: what a HangCheck row records."""
    fetched = fetch(url)
    note_parts = []
    if fetched.error and not fetched.bytes_read:
        found, note_parts = False, [fetched.error]
    elif fetched.status is not None and not 200 <= fetched.status < 300:
        found, note_parts = False, [f"网站首页返回 HTTP {fetched.status}"]
    else:
        found, note = find_code(fetched.body, code)
        note_parts.append(note)
        if fetched.cut:
            note_parts.append(f"页面超过 {_size(fetched.bytes_read)}，只检查了前 {_size(fetched.bytes_read)}")
        if fetched.error:
            note_parts.append(fetched.error)
    if len(fetched.hops) > 1:
        note_parts.append(f"重定向至 {fetched.final_url}")
    return CheckResult(
        found=found,
        note="；".join(note_parts)[:NOTE_MAX],
        http_status=fetched.status,
        bytes_read=fetched.bytes_read,
        url=url[:500],
    )
