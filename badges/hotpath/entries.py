"""What the public sees of one badge, built once per process and version from one query.

A :class:`PublicBadge` holds everything the hot path answers with — the data script and
its ETag, the image to show, the 标识证书 page — as plain values, so a warm request touches
neither the database nor the ORM. The table is dropped in every process within
``BADGE_PUBLIC_CHECK_INTERVAL`` of :func:`badges.public.badge_changed`.
"""

import datetime
import functools
import hashlib
import json

import idna
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from conac import hotcache
from registry.models import UnitKind

from .. import public
from ..models import Badge, BadgeKind, BadgeStatus, MountMethod
from . import assets, hosts, paths

CERTIFICATE_ISSUER = "政务和公益机构域名注册管理中心"
WARNING_SLOT = "<!--referer-warning-->"
UNKNOWN_SCRIPT = b"/* CONAC website badge: no such badge */\n"

# The data script: it queues its badge and loads the shared logic once (ASCII only, so a
# page in GBK reads it the same). It passes its own element, and its code, so the logic
# finds its place even when document.currentScript is null.
SCRIPT_TEMPLATE = (
    "/* CONAC website badge {code} */\n"
    "(function(w,d){{var b=w.__conacBadge=w.__conacBadge||{{}},e={data};"
    "e.s=d.currentScript;(b.q=b.q||[]).push(e);"
    "if(b.run){{b.run();}}else if(!b.loading){{b.loading=1;var t=d.createElement('script');"
    "t.src=e.logic;t.async=true;(d.head||d.documentElement).appendChild(t);}}}})(window,document);\n"
)


def etag_of(body):
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


UNKNOWN_SCRIPT_ETAG = etag_of(UNKNOWN_SCRIPT)


def _date(value):
    """Y年n月j日, China time, as the PDF's date filter prints it."""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
    return f"{value.year}年{value.month}月{value.day}日"


def family_of(kind, unit_kind):
    """organ (red), institution (blue), social (blue, reading 社会组织)."""
    if kind == BadgeKind.RED:
        return "organ"
    return "social" if unit_kind == UnitKind.SOCIAL_ORG else "institution"


class PublicBadge:
    """One badge as the public sees it; every field a plain value."""

    def __init__(self, badge):
        unit, domain = badge.unit, badge.domain
        self.code = badge.code
        self.certificate_id = badge.certificate_id
        self.status = badge.status
        self.revoked = badge.status == BadgeStatus.REVOKED
        self.family = family_of(badge.kind, unit.kind)
        self.look = assets.LOOKS[self.family]
        self.hosts = hosts.badge_hosts(domain.full_alabel, badge.english_domain)
        self.path_limit = hosts.path_limit(badge.home_url)
        # A red-page badge is also at home on the unit's red page on the main site (by path).
        self.pages = (
            [[name, f"/redpage/{unit.public_id}"] for name in hosts.site_names()]
            if badge.mount_method == MountMethod.RED_PAGE
            else []
        )
        self.certificate_url = paths.public_url(paths.certificate_path(badge.certificate_id))
        self.image_name = self.look.error_image if self.revoked else self.look.image
        # The 标识证书's fields, as the PDF (templates/badges/certificate.html) prints them.
        self.fields = {
            "unit_name": unit.name,
            "unit_kind": unit.get_kind_display(),
            "unit_address": unit.address,
            "functions": badge.application.functions or "—",
            "site_name": badge.site_name,
            "domain_name": domain.full_name,
            "english_domain": badge.english_domain,
            "code": badge.code,
            "issuer": CERTIFICATE_ISSUER,
            "issued_on": _date(badge.issued_at),
            "deadline": _date(badge.deadline),
            "revoked_on": _date(badge.revoked_at) if badge.revoked_at else "",
        }
        self.script = self._script()
        self.script_etag = etag_of(self.script)

    def _script(self):
        data = {
            "code": self.code,
            "certificate": self.certificate_url,
            "kind": self.family,
            "hosts": list(self.hosts),
            "path": self.path_limit,
            "pages": self.pages,
            "revoked": self.revoked,
            "image": assets.static_url(self.look.image),
            "alt": self.look.alt,
            "errorImage": assets.static_url(self.look.error_image),
            "errorAlt": assets.REVOKED_ALT if self.revoked else assets.MISMATCH_ALT,
            "logic": assets.static_url(assets.LOGIC),
        }
        # ensure_ascii: Chinese as \\u escapes; <, > and & escaped too, so nothing can end a script element.
        text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return SCRIPT_TEMPLATE.format(code=self.code, data=text).encode("ascii")

    @property
    def status_key(self):
        if self.revoked:
            return "revoked"
        return "overdue" if self.status == BadgeStatus.OVERDUE else "valid"

    @property
    def status_text(self):
        """The 状态 row: the PDF's words (有效 / 已撤销（日期）), overdue said after 有效."""
        if self.revoked:
            return f"已撤销（{self.fields['revoked_on']}）"
        if self.status == BadgeStatus.OVERDUE:
            return f"有效（逾期未挂标，挂标期限为{self.fields['deadline']}）"
        return "有效"

    def certificate_context(self):
        return {
            "badge": self,
            "fields": self.fields,
            "status_key": self.status_key,
            "status_text": self.status_text,
            "image_path": assets.static_path(self.image_name),
            "alt": self.look.alt,
        }

    @functools.cached_property
    def certificate_parts(self):
        """The page split where a Referer warning goes (the template's marker): (before, after), rendered once."""
        html = render_to_string("badges/public_certificate.html", self.certificate_context())
        before, found, after = html.partition(WARNING_SLOT)
        if not found:
            raise ValueError(f"badges/public_certificate.html has lost its {WARNING_SLOT} marker")
        return before.encode(), after.encode()

    @functools.cached_property
    def certificate_page(self):
        before, after = self.certificate_parts
        body = before + after
        return body, etag_of(body)

    def certificate_with_warning(self, shown_on):
        """The page warning that the badge was shown on ``shown_on``, a site it does not belong to."""
        warning = render_to_string(
            "badges/public_certificate_warning.html",
            {
                "shown_on": hosts_unicode(shown_on),
                "shown_on_ascii": shown_on,
                "names": [hosts_unicode(name) for name in self.hosts],
            },
        )
        before, after = self.certificate_parts
        body = before + warning.encode() + after
        return body, etag_of(body)

    def __repr__(self):
        return f"<PublicBadge {self.code} {self.status}>"


def hosts_unicode(name):
    """A host name for people: Unicode labels where it has A-labels (falls back to ASCII)."""
    try:
        return idna.decode(name)
    except (idna.IDNAError, UnicodeError, ValueError):
        return name


def badges_for_public():
    """The one query a PublicBadge needs (badge, unit, domain, application's 机构职能)."""
    return Badge.objects.select_related("unit", "domain", "application").only(
        "code",
        "certificate_id",
        "kind",
        "status",
        "site_name",
        "english_domain",
        "home_url",
        "mount_method",
        "issued_at",
        "deadline",
        "revoked_at",
        "unit__name",
        "unit__public_id",
        "unit__kind",
        "unit__address",
        "domain__label",
        "domain__alabel",
        "domain__suffix",
        "application__functions",
    )


def load(**lookup):
    badge = badges_for_public().filter(**lookup).first()
    return PublicBadge(badge) if badge is not None else None


class ScriptEntry:
    """What the script and image requests need, and no more: every badge's is held in every
    process (sites load the script on each page view), the certificate page's fields only for
    the badges whose page is asked for."""

    __slots__ = ("code", "revoked", "script", "script_etag", "image_name")

    def __init__(self, public_badge):
        self.code = public_badge.code
        self.revoked = public_badge.revoked
        self.script = public_badge.script
        self.script_etag = public_badge.script_etag
        self.image_name = public_badge.image_name

    def __repr__(self):
        return f"<ScriptEntry {self.code} revoked={self.revoked}>"


def load_script(code):
    public_badge = load(code=code)
    return ScriptEntry(public_badge) if public_badge is not None else None


table = hotcache.VersionedTable(
    public.VERSION_KEY,
    interval=lambda: settings.BADGE_PUBLIC_CHECK_INTERVAL,
    name="网站标识: public badge",
)


def by_code(code):
    return table.get(("code", code), lambda: load_script(code))


def by_certificate(certificate_id):
    return table.get(("certificate", certificate_id), lambda: load(certificate_id=certificate_id))
