"""RDAP JSON (RFC 9083) for the public facts in ``records``: domains, entities, help, searches, errors.

The structure follows the ICANN gTLD RDAP Response Profile where it applies to a registry
that is also its own registrar: the registrar entity (CONAC) carries the abuse contact, the
notices are the profile's three (terms of use, status codes, inaccuracy reports), events are
registration, expiration, last changed and last update of RDAP database, and what is withheld
is listed in ``redacted`` (RFC 9537). Dates are RFC 3339 in China time (the registry's days).
"""

import datetime
import zoneinfo

from django.conf import settings
from django.utils import timezone

from . import records

RDAP_MEDIA_TYPE = "application/rdap+json"
CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")
LANG = "zh-CN"
CONFORMANCE = ["rdap_level_0", "redacted"]
SEARCH_CONFORMANCE = ["rdap_level_0", "paging"]

# Which personal data is withheld, and why (RFC 9537). Nothing here is ever read from the
# database (records.py loads public columns only): the list tells clients what they will not get.
REDACTION_REASON = {"description": "Server policy: personal data of individuals is not published (个人信息不予公开)"}
REGISTRANT = "$.entities[?(@.roles[0]=='registrant')]"


def base_url():
    base = settings.RDAP_BASE_URL
    return base if base.endswith("/") else base + "/"


def url_of(path):
    return base_url() + path


def day_start(day):
    return datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=CHINA).isoformat()


def day_end(day):
    """到期时间 is a day: the name is in service until that day ends, China time."""
    return datetime.datetime.combine(day, datetime.time(23, 59, 59), tzinfo=CHINA).isoformat()


def instant(value):
    return timezone.localtime(value, CHINA).replace(microsecond=0).isoformat()


def link(self_url, href, rel, media_type=RDAP_MEDIA_TYPE, **extra):
    return {"value": self_url, "rel": rel, "href": href, "type": media_type, **extra}


def notices(self_url):
    report = settings.RDAP_REPORT_EMAIL
    return [
        {
            "title": "Terms of Use",
            "description": [
                "本服务公开 .政务 与 .公益 域名的登记信息，仅供查询域名的注册情况、核实网站主办单位使用；"
                "不得用于批量收集、营销或任何违法用途。个人信息不予公开。",
                "This service publishes registration data of .政务 (xn--zfr164b) and .公益 (xn--55qw42g) "
                "names for checking who holds a name. Bulk harvesting, marketing and any unlawful use are "
                "not permitted. Personal data of individuals is not published.",
            ],
            "links": [link(self_url, url_of("help"), "terms-of-service")],
        },
        {
            "title": "Status Codes",
            "description": ["For more information on domain status codes, please visit https://icann.org/epp"],
            "links": [link(self_url, "https://icann.org/epp", "glossary", "text/html")],
        },
        {
            "title": "Inaccuracy Report",
            "description": [
                f"如发现登记信息不准确，请发送邮件至 {report} 反映。",
                f"To report inaccurate registration data, write to {report}.",
            ],
            "links": [link(self_url, f"mailto:{report}", "help", "text/plain")],
        },
    ]


def not_ours_notice():
    zones = "、".join(f"{suffix}（{zone}）" for suffix, zone in records.SUFFIXES.items())
    return {
        "title": "Not Served Here",
        "description": [
            f"本服务只提供 {zones} 域名的登记信息。",
            "This server only answers for the top-level domains above; for other names consult the "
            "IANA RDAP bootstrap registry at https://data.iana.org/rdap/dns.json",
        ],
        "links": [
            {"value": url_of("help"), "rel": "related", "href": "https://data.iana.org/rdap/dns.json",
             "type": "application/json"},
        ],
    }  # fmt: skip


def _place_adr(place):
    """jCard ``adr``: region and locality are public; the street is emptied (RFC 9537 emptyValue)."""
    if place is None:
        return ["adr", {"cc": "CN"}, "text", ["", "", "", "", "", "", ""]]
    return ["adr", {"cc": "CN"}, "text", ["", "", "", place.locality, place.province, "", ""]]


def vcard(name, place, *extra):
    return [
        "vcard",
        [
            ["version", {}, "text", "4.0"],
            ["fn", {}, "text", name],
            ["kind", {}, "text", "org"],
            ["org", {}, "text", name],
            _place_adr(place),
            *extra,
        ],
    ]


def body_entity(body, *, roles=None):
    self_url = url_of(f"entity/{body.handle}")
    entity = {
        "objectClassName": "entity",
        "handle": body.handle,
        "roles": roles or [body.role],
        "vcardArray": vcard(body.name, body.place),
        "remarks": [{"title": "单位类型", "description": [body.kind]}],
        "links": [link(self_url, self_url, "self")],
    }
    if body.place is not None:
        entity["remarks"].append({"title": "所在地区", "description": [body.place.full_name]})
    return entity


def conac_entity():
    self_url = url_of(f"entity/{records.CONAC_HANDLE}")
    abuse = [
        ["version", {}, "text", "4.0"],
        ["fn", {}, "text", "CONAC Abuse Contact"],
        ["kind", {}, "text", "group"],
        ["email", {}, "text", settings.RDAP_REPORT_EMAIL],
    ]
    if settings.RDAP_ABUSE_PHONE:
        abuse.append(["tel", {"type": "voice"}, "uri", f"tel:{settings.RDAP_ABUSE_PHONE}"])
    return {
        "objectClassName": "entity",
        "handle": records.CONAC_HANDLE,
        "roles": ["registrar"],
        "vcardArray": vcard(
            records.CONAC_NAME, records.Place(province="北京市", locality="", full_name="北京市"),
        ),
        "remarks": [{"title": "说明", "description": ["政务和公益机构域名注册管理中心：.政务 与 .公益 的注册管理机构，复审与受理注册。"]}],
        "links": [link(self_url, self_url, "self")],
        "entities": [{"objectClassName": "entity", "roles": ["abuse"], "vcardArray": ["vcard", abuse]}],
    }  # fmt: skip


def redactions():
    """RFC 9537: what the registrant's data would have held and does not."""
    reason = REDACTION_REASON
    return [
        {"name": {"type": "Registrant Phone"}, "prePath": f"{REGISTRANT}.vcardArray[1][?(@[0]=='tel')]",
         "pathLang": "jsonpath", "method": "removal", "reason": reason},
        {"name": {"type": "Registrant Email"}, "prePath": f"{REGISTRANT}.vcardArray[1][?(@[0]=='email')]",
         "pathLang": "jsonpath", "method": "removal", "reason": reason},
        {"name": {"type": "Registrant Street"}, "postPath": f"{REGISTRANT}.vcardArray[1][?(@[0]=='adr')][3][2]",
         "pathLang": "jsonpath", "method": "emptyValue", "reason": reason},
        {"name": {"type": "Registrant Postal Code"},
         "postPath": f"{REGISTRANT}.vcardArray[1][?(@[0]=='adr')][3][5]",
         "pathLang": "jsonpath", "method": "emptyValue", "reason": reason},
        {"name": {"description": "Administrative Contact (负责人)"},
         "prePath": "$.entities[?(@.roles[0]=='administrative')]", "pathLang": "jsonpath",
         "method": "removal", "reason": reason},
        {"name": {"description": "Technical Contact (联系人: name, mobile, email)"},
         "prePath": "$.entities[?(@.roles[0]=='technical')]", "pathLang": "jsonpath",
         "method": "removal", "reason": reason},
        {"name": {"description": "Registrant Agent and Identity Document Number (经办人及其身份证号)"},
         "method": "removal", "reason": reason},
    ]  # fmt: skip


def nameserver(ns):
    item = {"objectClassName": "nameserver", "ldhName": ns.name}
    if ns.v4 or ns.v6:
        item["ipAddresses"] = {}
        if ns.v4:
            item["ipAddresses"]["v4"] = list(ns.v4)
        if ns.v6:
            item["ipAddresses"]["v6"] = list(ns.v6)
    return item


def domain(public):
    """The full domain object of a lookup."""
    self_url = url_of(f"domain/{public.ldh_name}")
    events = []
    if public.registered_on:
        events.append({"eventAction": "registration", "eventDate": day_start(public.registered_on)})
    if public.expires_on and public.state in (records.S.ACTIVE, records.S.EXPIRED):
        events.append({"eventAction": "expiration", "eventDate": day_end(public.expires_on)})
    events.append({"eventAction": "last changed", "eventDate": instant(public.changed_at)})
    events.append({"eventAction": "last update of RDAP database", "eventDate": instant(public.read_at)})
    links = [link(self_url, self_url, "self")]
    if public.certificate_url:
        links.append(link(self_url, public.certificate_url, "related", "text/html", title="标识证书"))
    document = {
        "rdapConformance": CONFORMANCE,
        "objectClassName": "domain",
        "handle": public.handle,
        "ldhName": public.ldh_name,
        "unicodeName": public.unicode_name,
        "lang": LANG,
        "status": list(public.statuses),
        "events": events,
        "nameservers": [nameserver(ns) for ns in public.nameservers],
        "secureDNS": {"zoneSigned": False, "delegationSigned": False},
        "entities": [body_entity(public.registrant), body_entity(public.office), conac_entity()],
        "links": links,
        "notices": notices(self_url),
        "redacted": redactions(),
    }
    return document


def entity(found, handle):
    self_url = url_of(f"entity/{handle}")
    document = conac_entity() if found == records.CONAC_HANDLE else body_entity(found)
    return {"rdapConformance": CONFORMANCE, **document, "lang": LANG, "notices": notices(self_url)}


def abridged(match):
    self_url = url_of(f"domain/{match.ldh_name}")
    events = []
    if match.registered_on:
        events.append({"eventAction": "registration", "eventDate": day_start(match.registered_on)})
    if match.expires_on and match.state in (records.S.ACTIVE, records.S.EXPIRED):
        events.append({"eventAction": "expiration", "eventDate": day_end(match.expires_on)})
    return {
        "objectClassName": "domain",
        "handle": match.handle,
        "ldhName": match.ldh_name,
        "unicodeName": match.unicode_name,
        "status": list(match.statuses),
        "events": events,
        "links": [link(self_url, self_url, "self")],
    }


def search(matches, *, self_url, next_url, page_size, truncated):
    paging = {"pageSize": page_size}
    if next_url:
        paging["links"] = [link(self_url, next_url, "next")]
    document = {
        "rdapConformance": SEARCH_CONFORMANCE,
        "domainSearchResults": [abridged(m) for m in matches],
        "paging_metadata": paging,
        "notices": notices(self_url),
    }
    if truncated:
        document["notices"].append(
            {
                "title": "Search Policy",
                "type": "result set truncated due to excessive load",
                "description": [
                    f"每次查询最多返回 {settings.RDAP_SEARCH_MAX_RESULTS} 个结果，请使用更长的前缀。",
                    f"At most {settings.RDAP_SEARCH_MAX_RESULTS} results are returned; use a longer prefix.",
                ],
            }
        )
    return document


def help_document():
    self_url = url_of("help")
    document = {"rdapConformance": CONFORMANCE, "lang": LANG, "notices": notices(self_url)}
    document["notices"].insert(
        1,
        {
            "title": "Queries",
            "description": [
                "domain/<name>：按域名查询（中文或 A-label，大小写与末尾的点均可）。",
                "domains?name=<prefix>*：按前缀查找（如 domains?name=北京*.政务），分页，结果有上限，按客户端地址限频。",
                "entity/<handle>：注册单位、同级编办与 CONAC。",
                "domain/<name> (Unicode or A-label), domains?name=<prefix>* (paged, capped, rate-limited), "
                "entity/<handle>, help. Other query types answer 501.",
            ],
        },
    )
    return document


TITLES = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    501: "Not Implemented",
}


def error(status, description, *, extra_notices=()):
    self_url = url_of("help")
    return {
        "rdapConformance": CONFORMANCE,
        "errorCode": status,
        "title": TITLES.get(status, "Error"),
        "description": description if isinstance(description, list) else [description],
        "notices": [*extra_notices, *notices(self_url)],
    }
