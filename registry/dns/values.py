"""Pure rules for one DNS record's fields, without the database.

``clean_record`` turns what a unit typed into the stored form (A-labels, canonical
addresses, a normalised URL) or raises ``ValidationError`` keyed by the form field, with
a Chinese message. The rules that need the domain's other records (CNAME beside
another record, URL转发 beside an address, duplicates, the per-domain limit) live in
``services``.
"""

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

import idna
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.encoding import iri_to_uri

from .models import RecordType

T = RecordType

MAX_TXT_OCTETS = 2048  # the whole text; it is published as strings of at most 255 octets
TXT_STRING_OCTETS = 255
MAX_URL_LENGTH = 2000
CAA_TAGS = ("issue", "issuewild", "iodef")
SERVICE_LABEL = re.compile(r"^_[a-z0-9][a-z0-9_-]{0,61}$")  # _dmarc, _acme-challenge, _domainkey


def ttl_range():
    return settings.DNS_TTL_MIN, settings.DNS_TTL_MAX


def _err(field, message):
    return ValidationError({field: message})


# --- Names ------------------------------------------------------------------------------


def _label_to_alabel(label):
    """One label, Unicode or A-label, as its A-label; raises ``idna.IDNAError``."""
    if SERVICE_LABEL.match(label):
        return label
    return idna.encode(label, uts46=True, std3_rules=True).decode("ascii")


def clean_host(raw):
    """主机记录: ``@``, ``*``, ``www`` or a chain of labels (IDN allowed) → A-labels, lower case."""
    host = _ascii_dots(unicodedata.normalize("NFC", (raw or "").strip())).rstrip(".").lower()
    if not host:
        raise _err("host", "请填写主机记录（如 @、www）。")
    if host == "@":
        return "@"
    if any(ch.isspace() for ch in host):
        raise _err("host", "主机记录不能含有空格。")
    labels = host.split(".")
    out = []
    for index, label in enumerate(labels):
        if label == "*":
            if index != 0:
                raise _err("host", "通配符“*”只能作为主机记录的第一段。")
            out.append("*")
            continue
        if not label:
            raise _err("host", "主机记录中不能有连续的“.”。")
        try:
            out.append(_label_to_alabel(label))
        except (idna.IDNAError, UnicodeError):
            raise _err(
                "host",
                f"主机记录中的“{label}”不是有效的名称（只能使用中文、字母、数字和连字符，且不能以连字符开头或结尾）。",
            ) from None
        if len(out[-1]) > 63:
            raise _err("host", f"主机记录中的“{label}”过长（每段不超过63个字符）。")
    host = ".".join(out)
    if len(host) > 190:
        raise _err("host", "主机记录过长。")
    return host


def clean_hostname(raw, field="value"):
    """An absolute host name in a record value (CNAME, MX, NS targets) → A-labels, no trailing dot."""
    shown = (raw or "").strip()
    name = _ascii_dots(unicodedata.normalize("NFC", shown)).lower().rstrip(".")
    if not name:
        raise _err(field, "请填写主机名，如 www.example.com。")
    if any(ch.isspace() for ch in name) or "/" in name or ":" in name:
        raise _err(field, f"“{shown}”不是有效的主机名（只填写主机名，不要带 http:// 或路径）。")
    labels = name.split(".")
    if len(labels) < 2:
        raise _err(field, f"“{shown}”不是完整的主机名，请填写完整域名，如 mail.example.com。")
    if labels[-1].isdigit():
        # 1.2.3.4 is an address, not a name: a CNAME/MX/NS target must be a host name.
        raise _err(field, f"“{shown}”是IP地址，此处须填写主机名，如 mail.example.com。")
    out = []
    for label in labels:
        if not label:
            raise _err(field, "主机名中不能有连续的“.”。")
        try:
            out.append(_label_to_alabel(label))
        except (idna.IDNAError, UnicodeError):
            raise _err(field, f"主机名中的“{label}”不是有效的名称。") from None
    name = ".".join(out)
    if len(name) > 253:
        raise _err(field, "主机名过长（不超过253个字符）。")
    return name


def _ascii_dots(text):
    """Full-width and ideographic full stops, as typed with a Chinese input method, as ``.``."""
    return text.replace("。", ".").replace("．", ".").replace("｡", ".")


def host_to_unicode(alabels):
    """A stored name shown in Unicode (labels that are not valid A-labels are shown as they are)."""
    out = []
    for label in alabels.split("."):
        if label.startswith("xn--"):
            try:
                label = idna.decode(label)
            except (idna.IDNAError, UnicodeError):
                pass
        out.append(label)
    return ".".join(out)


# --- Addresses -------------------------------------------------------------------------

_V4_REASONS = [
    (ipaddress.ip_network("0.0.0.0/8"), "“本网络”保留地址"),
    (ipaddress.ip_network("10.0.0.0/8"), "私有地址"),
    (ipaddress.ip_network("100.64.0.0/10"), "运营商级NAT（CGNAT）地址"),
    (ipaddress.ip_network("127.0.0.0/8"), "环回地址"),
    (ipaddress.ip_network("169.254.0.0/16"), "链路本地地址"),
    (ipaddress.ip_network("172.16.0.0/12"), "私有地址"),
    (ipaddress.ip_network("192.0.0.0/24"), "IETF协议保留地址"),
    (ipaddress.ip_network("192.0.2.0/24"), "文档示例地址"),
    (ipaddress.ip_network("192.168.0.0/16"), "私有地址"),
    (ipaddress.ip_network("198.18.0.0/15"), "网络测试保留地址"),
    (ipaddress.ip_network("198.51.100.0/24"), "文档示例地址"),
    (ipaddress.ip_network("203.0.113.0/24"), "文档示例地址"),
    (ipaddress.ip_network("224.0.0.0/4"), "组播地址"),
    (ipaddress.ip_network("240.0.0.0/4"), "保留地址"),
]


def clean_ipv4(raw):
    text = (raw or "").strip()
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        raise _err("value", f"“{text}”不是有效的IPv4地址，A记录的记录值应为如 1.2.3.4 的公网IP地址。") from None
    for network, reason in _V4_REASONS:
        if address in network:
            raise _err("value", f"{address} 是{reason}，不能用于公网解析，请填写公网IPv4地址。")
    if not address.is_global:
        raise _err("value", f"{address} 不是公网地址，请填写公网IPv4地址。")
    return str(address)


def clean_ipv6(raw):
    text = (raw or "").strip()
    try:
        if "%" in text:  # a zone index (fe80::1%eth0) names a local interface, never a public address
            raise ValueError(text)
        address = ipaddress.IPv6Address(text)
    except ValueError:
        raise _err(
            "value", f"“{text}”不是有效的IPv6地址，AAAA记录的记录值应为如 2400:3200::1 的公网IPv6地址。"
        ) from None
    if address.ipv4_mapped is not None:
        raise _err("value", "AAAA记录不能使用IPv4映射地址，请直接添加A记录。")
    if address.is_multicast:
        raise _err("value", f"{address} 是组播地址，不能用于解析。")
    if not address.is_global:
        raise _err("value", f"{address} 不是全球单播地址（如环回、链路本地、私有或文档示例地址），请填写公网IPv6地址。")
    return address.compressed


# --- Text, CAA, URL --------------------------------------------------------------------


def clean_txt(raw):
    text = raw or ""
    if not text.strip():
        raise _err("value", "请填写TXT记录的文本内容。")
    bad = [ch for ch in text if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")]
    if bad:
        raise _err("value", "TXT记录只能包含可打印字符，不能含有换行、制表符等控制字符。")
    if len(text.encode("utf-8")) > MAX_TXT_OCTETS:
        raise _err("value", f"TXT记录不能超过{MAX_TXT_OCTETS}字节。")
    return text


def txt_strings(text):
    """The text as ≤255-octet strings, split at character boundaries (RFC 1035 character-strings)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= TXT_STRING_OCTETS:
        return [encoded]
    chunks, current, size = [], [], 0
    for ch in text:
        width = len(ch.encode("utf-8"))
        if size + width > TXT_STRING_OCTETS:
            chunks.append("".join(current).encode("utf-8"))
            current, size = [], 0
        current.append(ch)
        size += width
    if current:
        chunks.append("".join(current).encode("utf-8"))
    return chunks


def clean_caa(flags, tag, raw):
    if flags not in (0, 128):
        raise _err("caa_flags", "CAA标志只能为0或128（关键）。")
    tag = (tag or "").strip().lower()
    if tag not in CAA_TAGS:
        raise _err("caa_tag", "CAA标签只能为 issue、issuewild 或 iodef。")
    value = (raw or "").strip()
    if not value.isascii() or any(not ch.isprintable() for ch in value) or '"' in value:
        raise _err("value", "CAA记录值只能包含可打印的英文字符，不能含有引号。")
    if len(value) > 255:
        raise _err("value", "CAA记录值不能超过255个字符。")
    if tag == "iodef":
        if not re.match(r"^(mailto:[^@\s]+@[^@\s]+|https?://\S+)$", value):
            raise _err("value", "iodef 的记录值应为 mailto: 邮箱或 http(s):// 地址。")
    elif value and value != ";":
        issuer = value.split(";", 1)[0].strip()
        if issuer:
            clean_hostname(issuer)
    return tag, value


def clean_url(raw):
    """URL转发 target: http/https only, no credentials; the host may be IDN (kept as A-labels)."""
    text = (raw or "").strip()
    if not text:
        raise _err("value", "请填写转发的目标网址，如 https://www.example.gov.cn/。")
    if len(text) > MAX_URL_LENGTH:
        raise _err("value", f"目标网址不能超过{MAX_URL_LENGTH}个字符。")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in text):
        raise _err("value", "目标网址不能含有空格或控制字符。")
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if scheme not in ("http", "https"):
        raise _err("value", "目标网址必须以 http:// 或 https:// 开头。")
    parts = urlsplit(text)
    if "@" in parts.netloc:
        raise _err("value", "目标网址不能包含用户名或密码。")
    try:
        port = parts.port
    except ValueError:
        raise _err("value", "目标网址的端口号无效。") from None
    hostname = parts.hostname or ""
    if not hostname:
        raise _err("value", "目标网址缺少主机名。")
    if port == 0:
        raise _err("value", "目标网址的端口号无效。")
    if _is_ip_literal(hostname):
        # Same rule as A/AAAA: a visitor's browser must reach the target over the Internet.
        address = clean_ipv6(hostname) if ":" in hostname else clean_ipv4(hostname)
        host = address if ":" not in address else f"[{address}]"
    else:
        host = clean_hostname(hostname)
    netloc = host + (f":{port}" if port else "")
    path = iri_to_uri(parts.path) or "/"
    return urlunsplit((scheme, netloc, path, iri_to_uri(parts.query), ""))


def _is_ip_literal(hostname):
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


def url_host(url):
    return (urlsplit(url).hostname or "").lower()


# --- One record --------------------------------------------------------------------------


def clean_ttl(raw):
    low, high = ttl_range()
    if raw in (None, ""):
        return low
    try:
        ttl = int(raw)
    except (TypeError, ValueError):
        raise _err("ttl", "TTL必须是整数（秒）。") from None
    if not low <= ttl <= high:
        raise _err("ttl", f"TTL须在{low}至{high}秒之间。")
    return ttl


def clean_record(
    *, host, rtype, value, ttl=None, priority=None, caa_flags=None, caa_tag="", redirect_code=None, keep_path=False
):
    """Every per-field rule of one record; returns the stored field values."""
    rtype = str(rtype or "").strip().upper()
    if rtype not in T.values:
        raise _err("rtype", "请选择记录类型。")
    host = clean_host(host)
    data = {
        "host": host,
        "rtype": rtype,
        "ttl": clean_ttl(ttl),
        "priority": None,
        "caa_flags": None,
        "caa_tag": "",
        "redirect_code": None,
        "keep_path": False,
    }
    if rtype == T.A:
        data["value"] = clean_ipv4(value)
    elif rtype == T.AAAA:
        data["value"] = clean_ipv6(value)
    elif rtype == T.CNAME:
        if host == "@":
            raise _err("host", "CNAME记录不能添加在@（域名本身），请使用A记录或URL转发。")
        data["value"] = clean_hostname(value)
    elif rtype == T.MX:
        if priority in (None, ""):
            raise _err("priority", "MX记录须填写优先级（0-65535）。")
        try:
            priority = int(priority)
        except (TypeError, ValueError):
            raise _err("priority", "MX优先级必须是0至65535之间的整数。") from None
        if not 0 <= priority <= 65535:
            raise _err("priority", "MX优先级必须是0至65535之间的整数。")
        data["priority"] = priority
        data["value"] = clean_hostname(value)
    elif rtype == T.TXT:
        data["value"] = clean_txt(value)
    elif rtype == T.CAA:
        try:
            flags = int(caa_flags if caa_flags not in (None, "") else 0)
        except (TypeError, ValueError):
            raise _err("caa_flags", "CAA标志只能为0或128（关键）。") from None
        data["caa_flags"] = flags
        data["caa_tag"], data["value"] = clean_caa(flags, caa_tag, value)
    elif rtype == T.NS:
        if host != "@":
            raise _err("host", "NS记录只能添加在@，用于把整个域名委派给本单位自己的名称服务器。")
        data["value"] = clean_hostname(value)
    elif rtype == T.URL:
        data["value"] = clean_url(value)
        try:
            code = int(redirect_code or 301)
        except (TypeError, ValueError):
            code = 0
        if code not in (301, 302):
            raise _err("redirect_code", "请选择转发方式：301（永久）或 302（临时）。")
        data["redirect_code"] = code
        data["keep_path"] = bool(keep_path)
    return data


def display_value(record):
    """记录值 as a person reads it: names in Unicode, MX with its priority, CAA in full."""
    rtype = record.rtype
    if rtype in (T.CNAME, T.NS):
        return host_to_unicode(record.value)
    if rtype == T.MX:
        return f"{record.priority} {host_to_unicode(record.value)}"
    if rtype == T.CAA:
        return f'{record.caa_flags} {record.caa_tag} "{record.value}"'
    if rtype == T.URL:
        parts = urlsplit(record.value)
        shown = urlunsplit(
            parts._replace(netloc=parts.netloc.replace(parts.hostname or "", host_to_unicode(parts.hostname or "")))
        )
        return f"{shown}（{record.redirect_code}{'，保留路径' if record.keep_path else ''}）"
    return record.value
