"""The public facts of a domain and of the bodies around it, read in a fixed number of queries.

Only public columns are ever loaded (``only``): the unit's name, kind and region; the
office's name and region; dates and state. The personal fields of a unit (负责人, 联系人,
联系人手机, 联系人邮箱, 办公电话, 经办人, 经办人身份证号, 单位地址) are never read, so no
response can carry them whatever the data.
"""

import datetime
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from badges.hotpath import paths as badge_paths
from badges.models import Badge, BadgeStatus
from registry.dns.models import DnsRecord, RecordType
from registry.domains.names import SUFFIXES
from registry.models import Domain, DomainStatus, Office, Unit, UnitKind

S = DomainStatus

# What the public sees of our states (RFC 8056 / RFC 9083 §10.2.2 status values).
PENDING_STATES = (S.PENDING_LOCAL, S.PENDING_CONAC, S.AWAITING_PAYMENT, S.FEE_MARKED, S.ACTIVATING)
PUBLIC_STATES = (*PENDING_STATES, S.ACTIVE, S.EXPIRED)
# 已过期: the name no longer works, and its unit can still renew it (a renewal restores 注册成功)
# while nobody else may take it: ICANN's "redemption period" says exactly that.
RDAP_STATUS = {
    **{state: ("pending create",) for state in PENDING_STATES},
    S.ACTIVE: ("active",),
    S.EXPIRED: ("inactive", "redemption period"),
}
# The same facts in Chinese for the 域名信息查询 page.
STATUS_TEXT = {
    **{state: "申请中（审核或缴费尚未完成，尚未生效）" for state in PENDING_STATES},
    S.ACTIVE: "注册成功",
    S.EXPIRED: "已过期（原注册单位续费后可恢复）",
}

CONAC_HANDLE = "CONAC"
CONAC_NAME = "政务和公益机构域名注册管理中心"


def domain_handle(public_id):
    return f"D{public_id.hex.upper()}-CONAC"


def unit_handle(public_id):
    return f"U{public_id.hex.upper()}-CONAC"


def office_handle(code):
    return f"O{code}-CONAC"


@dataclass(frozen=True)
class Place:
    """所在地区: province, and the rest below it (GB/T 2260)."""

    province: str
    locality: str
    full_name: str


@dataclass(frozen=True)
class PublicBody:
    """A unit (registrant) or an office (reseller): public bodies, public facts only."""

    handle: str
    name: str
    kind: str  # 党政机关 / 事业单位 / 社会组织 / 机构编制部门
    place: Place | None
    role: str


@dataclass(frozen=True)
class Nameserver:
    name: str  # A-labels
    v4: tuple = ()
    v6: tuple = ()


@dataclass(frozen=True)
class PublicDomain:
    handle: str
    label: str
    alabel: str
    suffix: str
    suffix_alabel: str
    state: str
    registered_on: datetime.date | None
    expires_on: datetime.date | None
    changed_at: datetime.datetime
    registrant: PublicBody
    office: PublicBody
    nameservers: tuple = ()
    delegated: bool = False
    certificate_url: str = ""
    read_at: datetime.datetime = field(default_factory=timezone.now)

    @property
    def unicode_name(self):
        return self.label + self.suffix

    @property
    def ldh_name(self):
        return f"{self.alabel}.{self.suffix_alabel}"

    @property
    def statuses(self):
        return RDAP_STATUS[self.state]

    @property
    def status_text(self):
        return STATUS_TEXT[self.state]


def place_of(region):
    if region is None:
        return None
    chain = []
    while region is not None:
        chain.append(region)
        region = region.parent
    province = chain[-1]
    locality = "".join(r.name for r in reversed(chain[:-1]))
    return Place(province=province.name, locality=locality, full_name=chain[0].full_name)


REGION_FIELDS = ("name", "full_name", "parent__name", "parent__full_name", "parent__parent__name")


def _region_fields(prefix):
    fields = [f"{prefix}__{name}" for name in REGION_FIELDS]
    # The parents' own parent links, so walking up stays inside the one query.
    return [*fields, f"{prefix}__parent_id", f"{prefix}__parent__parent_id", f"{prefix}__parent__parent__parent_id"]


def unit_body(unit):
    return PublicBody(
        handle=unit_handle(unit.public_id),
        name=unit.name,
        kind=UnitKind(unit.kind).label,
        place=place_of(unit.region),
        role="registrant",
    )


def office_body(office, *, with_place=False):
    return PublicBody(
        handle=office_handle(office.code),
        name=office.name,
        kind="机构编制部门",
        place=place_of(office.region) if with_place else None,
        role="reseller",
    )


def _public_domains():
    fields = ["public_id", "label", "alabel", "suffix", "status", "registered_on", "expires_on", "updated_at"]
    fields += ["unit__public_id", "unit__name", "unit__kind", *_region_fields("unit__region")]
    fields += ["office__code", "office__name"]
    return (
        Domain.objects.filter(status__in=PUBLIC_STATES)
        # The office's own region is left out (its name says where it is): every join costs
        # planning time on each cold lookup.
        .select_related("unit__region__parent__parent", "office")
        .only(*fields)
        .order_by()
    )


def _nameservers(domain):
    """The delegation's NS with their glue (one query), or the registry's own name servers (none)."""
    if not domain.has_ns:
        return _registry_nameservers(), False
    rows = list(
        DnsRecord.objects.effective()
        .filter(domain_id=domain.pk, rtype__in=[RecordType.NS, RecordType.A, RecordType.AAAA])
        .order_by("id")
        .values_list("host", "rtype", "value")
    )
    ns = [value for host, rtype, value in rows if rtype == RecordType.NS and host == "@"]
    # The zone publishes a delegation from this many NS records on (registry/dns/zones.py).
    if len(ns) < settings.DNS_MIN_DELEGATION_NS:
        return _registry_nameservers(), False
    inside = f".{domain.alabel}.{SUFFIXES[domain.suffix]}"
    servers = []
    for name in dict.fromkeys(ns):
        glue_host = name[: -len(inside)] if name.endswith(inside) else None
        addresses = [v for h, t, v in rows if glue_host is not None and h == glue_host and t != RecordType.NS]
        servers.append(_nameserver(name, addresses))
    return tuple(servers), True


def _nameserver(name, addresses):
    return Nameserver(
        name=name, v4=tuple(a for a in addresses if ":" not in a), v6=tuple(a for a in addresses if ":" in a)
    )


def _registry_nameservers():
    return tuple(_nameserver(name, addresses) for name, addresses in settings.DNS_NAMESERVERS)


def load_domain(label, suffix):
    """The public facts of the registered (or applied-for) name ``label`` + ``suffix``, or None.

    One query (the domain, its unit, office and their regions, its valid badge's certificate,
    whether it has NS records); a second only for a name with NS records, to read them and
    their glue.
    """
    valid_badges = (
        Badge.objects.filter(domain=OuterRef("pk")).exclude(status=BadgeStatus.REVOKED).order_by("-issued_at")
    )
    ns_records = DnsRecord.objects.effective().filter(domain=OuterRef("pk"), rtype=RecordType.NS, host="@")
    rows = (
        _public_domains()
        .filter(label=label, suffix=suffix)
        .annotate(
            certificate_id=Subquery(valid_badges.values("certificate_id")[:1]),
            has_ns=Exists(ns_records),
        )[:1]
    )
    domain = next(iter(rows), None)
    if domain is None:
        return None
    nameservers, delegated, certificate_url = (), False, ""
    if domain.status == S.ACTIVE:
        nameservers, delegated = _nameservers(domain)
    if domain.status in (S.ACTIVE, S.EXPIRED) and domain.certificate_id:
        certificate_url = badge_paths.public_url(badge_paths.certificate_path(domain.certificate_id))
    return PublicDomain(
        handle=domain_handle(domain.public_id),
        label=domain.label,
        alabel=domain.alabel,
        suffix=domain.suffix,
        suffix_alabel=SUFFIXES.get(domain.suffix, ""),
        state=domain.status,
        registered_on=domain.registered_on,
        expires_on=domain.expires_on,
        changed_at=domain.updated_at,
        registrant=unit_body(domain.unit),
        office=office_body(domain.office),
        nameservers=nameservers,
        delegated=delegated,
        certificate_url=certificate_url,
    )


def load_entity(handle):
    """A registrant unit (one that holds a public name), an office, or CONAC, by handle; else None. One query."""
    if handle == CONAC_HANDLE:
        return CONAC_HANDLE
    if handle.endswith("-CONAC") and handle.startswith("U"):
        try:
            public_id = uuid.UUID(hex=handle[1:-6])
        except ValueError:
            return None
        holds_a_name = Domain.objects.filter(unit=OuterRef("pk"), status__in=PUBLIC_STATES)
        unit = (
            Unit.objects.filter(public_id=public_id)
            .filter(Exists(holds_a_name))
            .select_related("region__parent__parent")
            .only("public_id", "name", "kind", *_region_fields("region"))
            .first()
        )
        return unit_body(unit) if unit is not None else None
    if handle.endswith("-CONAC") and handle.startswith("O"):
        code = handle[1:-6]
        if not code.isdigit() or len(code) != 6:
            return None
        office = (
            Office.objects.filter(code=code)
            .select_related("region__parent__parent")
            .only("code", "name", *_region_fields("region"))
            .first()
        )
        return office_body(office, with_place=True) if office is not None else None
    return None


@dataclass(frozen=True)
class Match:
    """One row of a search: enough for an abridged domain object."""

    handle: str
    label: str
    alabel: str
    suffix: str
    state: str
    registered_on: datetime.date | None
    expires_on: datetime.date | None

    @property
    def suffix_alabel(self):
        return SUFFIXES.get(self.suffix, "")

    @property
    def unicode_name(self):
        return self.label + self.suffix

    @property
    def ldh_name(self):
        return f"{self.alabel}.{self.suffix_alabel}"

    @property
    def statuses(self):
        return RDAP_STATUS[self.state]


def load_matches(label, suffixes):
    """The public names ``label`` under any of ``suffixes`` (an exact search). One query."""
    rows = (
        Domain.objects.filter(label=label, suffix__in=suffixes, status__in=PUBLIC_STATES)
        .order_by("suffix")
        .values_list("public_id", "label", "alabel", "suffix", "status", "registered_on", "expires_on")
    )
    return [
        Match(domain_handle(public_id), label, alabel, suffix, status, registered_on, expires_on)
        for public_id, label, alabel, suffix, status, registered_on, expires_on in rows
    ]


def _next_prefix(prefix):
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


_SEARCH_SQL = (
    "SELECT public_id, label, alabel, suffix, status, registered_on, expires_on FROM registry_domain "
    "WHERE {column} ~>=~ %s AND {column} ~<~ %s AND suffix = ANY(%s) AND status = ANY(%s) "
    "ORDER BY {column} USING ~<~, suffix LIMIT %s OFFSET %s"
)
# The two columns written out: no SQL is ever built from a request.
SEARCH_SQL = {column: _SEARCH_SQL.replace("{column}", column) for column in ("label", "alabel")}


def search(prefix, *, column, suffixes, offset, limit):
    """Public names whose ``column`` (label or alabel) starts with ``prefix``, in code-point order. One query.

    On PostgreSQL the range is read in the order of the prefix index (``varchar_pattern_ops``),
    so a prefix shared by a million names costs ``offset + limit`` rows, not a sort of them all.
    """
    if column not in ("label", "alabel"):
        raise ValueError(column)
    fields = ("public_id", "label", "alabel", "suffix", "status", "registered_on", "expires_on")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                SEARCH_SQL[column],
                [prefix, _next_prefix(prefix), list(suffixes), [str(s) for s in PUBLIC_STATES], limit, offset],
            )
            rows = cursor.fetchall()
    else:
        rows = list(
            Domain.objects.filter(**{f"{column}__startswith": prefix}, suffix__in=suffixes, status__in=PUBLIC_STATES)
            .order_by(column, "suffix")
            .values_list(*fields)[offset : offset + limit]
        )
    return [
        Match(domain_handle(public_id), label, alabel, suffix, status, registered_on, expires_on)
        for public_id, label, alabel, suffix, status, registered_on, expires_on in rows
    ]
