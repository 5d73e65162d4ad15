"""网络红页: the hosted micro-site of a unit without a website of its own — editing, 发布红页,
and answering the public.

The unit edits a draft (单位简介, 机构职能, 单位地址, 联系电话, 页脚). 发布红页 copies the draft,
sanitised, to the published fields, and marks the unit's red-page badges 已挂标. The public
page is served at ``/redpage/<unit public_id>/`` on the main site and, by ``Host``, at the
unit's live domains (with or without ``www.``), from process memory: a warm hit makes no
database query. The badge in the footer is the template's, outside whatever the unit writes.
"""

import base64
import hashlib
import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotAllowed
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe

from conac import audit
from registry.dns.forwarding import VERSION_KEY as DNS_VERSION_KEY
from registry.domains.models import Domain, DomainStatus
from registry.domains.names import SUFFIXES
from registry.organisations.models import Unit, UnitKind

from . import public
from .models import OPEN_STATES, Badge, BadgeStatus, MountMethod, RedPage, WebsiteApplication
from .queries import badge_snippet
from .services import mark_hung

# --- Sanitising ---------------------------------------------------------------------------

RICH_TAGS = frozenset(
    {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h2", "h3", "blockquote"}
    | {"table", "caption", "thead", "tbody", "tr", "th", "td"}
)
# No style, class, id, hidden or event attribute anywhere: nothing can hide text, restyle the
# page, or take the badge's element id (``_ideConac``); links only to http, https and mailto.
_cleaner = nh3.Cleaner(
    tags=set(RICH_TAGS),
    clean_content_tags={"script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math"},
    attributes={"a": {"href", "title"}},
    url_schemes={"http", "https", "mailto"},
    url_relative="deny",  # the page is served under several hosts; a relative link means nothing stable
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def sanitise_rich(html):
    """单位简介 and 页脚: the allowed tags only, as a well-formed fragment (nothing left open)."""
    return _cleaner.clean(html or "").strip()


def _visible_text(html):
    return strip_tags(html).replace("\xa0", " ").strip()


# --- Who may edit -------------------------------------------------------------------------


class RedPageError(Exception):
    """A request the rules refuse; the message is shown to the unit (with where to go next)."""

    def __init__(self, message, *, link_name=None, link_label=None, field=None):
        super().__init__(message)
        self.link_name = link_name
        self.link_label = link_label
        self.field = field


def _application_link(unit):
    if unit.kind == UnitKind.ORGAN:
        return "badges:website-apply", "网站开办审核/资质复核申请"
    return "badges:badge-apply", "标识申请"


def check_may_edit(unit):
    """Raise RedPageError naming the missing step unless the unit holds an issued, unrevoked badge."""
    badges = Badge.objects.filter(unit_id=unit.pk)
    if badges.exclude(status=BadgeStatus.REVOKED).exists():
        return
    link_name, link_label = _application_link(unit)
    if badges.exists():
        raise RedPageError(
            f"本单位的网站标识已撤销，不能编辑和发布网络红页；如需继续，请重新办理“{link_label}”。",
            link_name=link_name,
            link_label=link_label,
        )
    waiting = WebsiteApplication.objects.filter(unit_id=unit.pk, status__in=OPEN_STATES).order_by("-id").first()
    if waiting is not None:
        raise RedPageError(
            f"网络红页须在发放网站标识后发布：本单位的{waiting.get_kind_display()}“{waiting.site_name}”"
            f"当前状态为“{waiting.get_status_display()}”，发放标识后即可编辑。",
            link_name=link_name,
            link_label=link_label,
        )
    raise RedPageError(
        f"网络红页须在发放网站标识后发布：请先办理“{link_label}”（挂标方式选择“网络红页”），发放标识后即可编辑。",
        link_name=link_name,
        link_label=link_label,
    )


def may_edit(unit):
    try:
        check_may_edit(unit)
    except RedPageError:
        return False
    return True


# --- Editing and publishing ----------------------------------------------------------------

DRAFT_FIELDS = ("intro", "functions", "address", "phone", "footer")
RICH_FIELDS = ("intro", "footer")


def red_page_of(unit):
    """The unit's red page, or an unsaved empty one."""
    return RedPage.objects.filter(unit_id=unit.pk).first() or RedPage(unit=unit)


def _lock(unit, actor):
    if getattr(actor, "unit_id", None) != unit.pk:
        raise RedPageError("只能编辑本单位的网络红页。")
    # The unit's row first, as the application services take it: the first save creates the page once.
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    check_may_edit(unit)
    page, _ = RedPage.objects.select_for_update().get_or_create(unit=unit)
    return page


def _apply_draft(page, draft):
    changed = []
    for name in DRAFT_FIELDS:
        if name in draft:
            value = (draft[name] or "").strip()
            if getattr(page, name) != value:
                setattr(page, name, value)
                changed.append(name)
    return changed


def _labels(names):
    return [str(RedPage._meta.get_field(name).verbose_name) for name in names]


def save_draft(unit, *, actor, **draft):
    """保存: the draft as the unit wrote it (sanitised only when previewed and published)."""
    with transaction.atomic():
        page = _lock(unit, actor)
        changed = _apply_draft(page, draft)
        if changed:
            page.save(update_fields=[*changed, "updated_at"])
            audit.record(page, "保存网络红页", actor=actor, data={"fields": _labels(changed)})
    return page


def published_values(page):
    """What 发布红页 would publish from the page's draft: rich fields sanitised, plain ones as written."""
    return {
        "intro": sanitise_rich(page.intro),
        "functions": page.functions.strip(),
        "address": page.address.strip(),
        "phone": page.phone.strip(),
        "footer": sanitise_rich(page.footer),
    }


def publish_red_page(unit, *, actor, draft=None, now=None):
    """发布红页: the draft (saved first when given), sanitised, becomes the public page; the unit's
    red-page badges are 已挂标. Publishing what is already public changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        page = _lock(unit, actor)
        changed = _apply_draft(page, draft or {})
        values = published_values(page)
        if not _visible_text(values["intro"]):
            raise RedPageError("请填写单位简介后再发布红页。", field="intro")
        was_unpublished = page.published_at is None
        content_changed = page.published_at is None or any(
            getattr(page, f"published_{name}") != value for name, value in values.items()
        )
        fields = list(changed)
        if content_changed:
            for name, value in values.items():
                setattr(page, f"published_{name}", value)
            page.published_at = now
            fields += [f"published_{name}" for name in values] + ["published_at"]
        if fields:
            page.save(update_fields=[*fields, "updated_at"])
        if content_changed:
            audit.record(
                page,
                "发布红页",
                actor=actor,
                to_state="已发布",
                data={"fields": _labels(changed), "published_at": now.isoformat()},
            )
            transaction.on_commit(public.badge_changed, robust=True)
            if was_unpublished:
                # The unit's domains now point at this system in the zone (hosted_domain_ids).
                _zones_changed(unit)
        elif changed:  # only what sanitising removes anyway: the draft changed, the public page did not
            audit.record(page, "保存网络红页", actor=actor, data={"fields": _labels(changed)})
        for badge in Badge.objects.filter(unit_id=unit.pk, mount_method=MountMethod.RED_PAGE).exclude(
            status=BadgeStatus.REVOKED
        ):
            mark_hung(badge, note="网络红页已发布", actor=actor, now=now)
    return page


def _zones_changed(unit):
    from registry.dns import publishing

    suffixes = set(Domain.objects.filter(unit_id=unit.pk, status=DomainStatus.ACTIVE).values_list("suffix", flat=True))
    for suffix in suffixes:
        publishing.zone_changed(suffix, forwarding=True)


def hosted_domain_ids(suffix):
    """Hook of the zone publisher: the live domains of units with a published red page and a badge
    not revoked — the names at which ``serve_host`` answers."""
    units = RedPage.objects.filter(published_at__isnull=False).values("unit_id")
    live_badges = Badge.objects.exclude(status=BadgeStatus.REVOKED).values("unit_id")
    return set(
        Domain.objects.filter(suffix=suffix, status__in=[DomainStatus.ACTIVE, DomainStatus.EXPIRED])
        .filter(unit_id__in=units)
        .filter(unit_id__in=live_badges)
        .values_list("pk", flat=True)
    )


# --- Rendering ----------------------------------------------------------------------------


def badge_base_url():
    return settings.BADGE_BASE_URL.rstrip("/")


def certificate_url(badge):
    """The public 标识证书 page, on the badge host (absolute: the red page is served on other hosts)."""
    try:
        path = reverse("badges:public-certificate", args=[badge.certificate_id])
    except NoReverseMatch:
        path = f"/certificate/{badge.certificate_id}/"
    return badge_base_url() + path


def badge_image_url(badge):
    """The no-JavaScript badge image (it answers the error variant for a revoked badge)."""
    try:
        path = reverse("badges:public-badge-image", args=[badge.code])
    except NoReverseMatch:
        path = f"/img/{badge.code}.png"  # as badges.hotpath.paths serves it
    return badge_base_url() + path


def _footer_badge(unit, *, domain=None):
    """The badge the footer carries: the one of this domain, else a red-page one, else the newest."""
    badges = list(Badge.objects.filter(unit_id=unit.pk).exclude(status=BadgeStatus.REVOKED))
    if not badges:
        return None
    badges.sort(key=lambda b: b.issued_at, reverse=True)
    badges.sort(key=lambda b: b.mount_method != MountMethod.RED_PAGE)
    if domain is not None:
        badges.sort(key=lambda b: b.domain_id != domain.pk)
    return badges[0]


def _safe(html):
    # Safe because nh3 sanitised it, here at render time too (an allowlist tightened later
    # applies to pages published before).
    return mark_safe(sanitise_rich(html))  # noqa: S308  # nosec B308, B703


def render_page(unit, values, *, badge, published_at=None, preview=False):
    """The public page's HTML for ``values`` (published_values() or the published fields)."""
    context = {
        "unit": unit,
        "intro": _safe(values["intro"]),
        "functions": values["functions"],
        "address": values["address"],
        "phone": values["phone"],
        "footer": _safe(values["footer"]),
        "badge": badge,
        # Our markup: a code of CA and digits, a URL built from settings.
        "badge_snippet": mark_safe(badge_snippet(badge)),  # noqa: S308  # nosec B308, B703
        "certificate_url": certificate_url(badge),
        "badge_image_url": badge_image_url(badge),
        "published_at": published_at,
        "preview": preview,
    }
    return render_to_string("badges/redpage_public.html", context)


def preview_html(unit, draft):
    """预览: the page as 发布红页 would publish ``draft`` (a mapping of the draft fields)."""
    page = RedPage(unit=unit, **{name: draft.get(name) or "" for name in DRAFT_FIELDS})
    badge = _footer_badge(unit)
    if badge is None:
        return ""
    return render_page(unit, published_values(page), badge=badge, published_at=timezone.now(), preview=True)


# --- Serving: process memory, versioned ------------------------------------------------------
# Drop-in for conac/hotcache.py once it lands: the same VERSION_KEY, checked at most once a second.

CHECK_INTERVAL = 1.0
# Pages are a few to some tens of KB (单位简介 up to 20,000 characters): 5,000 stays well under 300 MB.
MAX_ENTRIES = 5_000
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str
    csp: str


def _csp(html):
    """Only the badge host for scripts and images; the page's own inline style by its hash."""
    parts = urlsplit(badge_base_url())
    origin = f"{parts.scheme}://{parts.netloc}"
    hashes = [base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() for style in _STYLE.findall(html)]
    styles = " ".join(f"'sha256-{h}'" for h in hashes) or "'none'"
    return (
        f"default-src 'none'; script-src {origin}; img-src {origin}; style-src {styles}; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _rendered(html):
    body = html.encode("utf-8")
    return Rendered(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"', csp=_csp(html))


_MISSING = object()


class PageCache:
    """Key → Rendered or None (unpublished, unknown), per process; dropped when a version moves.

    The versions are the badges' (publication, revocation, any badge change) and the DNS
    forwarding one (zone publication: a domain activated, deleted or expired).
    """

    def __init__(self):
        self._entries = OrderedDict()
        self._versions = _MISSING
        self._checked_at = float("-inf")
        self._generation = 0
        self._lock = threading.Lock()

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._generation += 1
            self._versions = _MISSING
            self._checked_at = float("-inf")

    def __len__(self):
        return len(self._entries)

    def get(self, key, load):
        now = time.monotonic()
        if now - self._checked_at >= CHECK_INTERVAL:
            self._check_versions(now)
        entry = self._entries.get(key, _MISSING)
        if entry is not _MISSING:
            return entry
        generation = self._generation
        entry = load()
        with self._lock:
            # A version change while the page was read (another thread) must not keep a stale copy.
            if generation == self._generation:
                self._entries[key] = entry
                if len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
        return entry

    def _check_versions(self, now):
        keys = (public.VERSION_KEY, DNS_VERSION_KEY)
        try:
            found = cache.get_many(keys)
            for key in keys:
                if key not in found:
                    # Lost (evicted, flushed): a fresh version that every process then agrees on,
                    # so a lost key drops the copies instead of leaving them under "no version".
                    found[key] = uuid.uuid4().hex
                    if not cache.add(key, found[key], timeout=None):
                        found[key] = cache.get(key)
            versions = tuple(found[key] for key in keys)
        except Exception:  # noqa: BLE001 - the shared cache is down: each second's copy comes from the database
            versions = uuid.uuid4().hex
        with self._lock:
            if versions != self._versions:
                self._entries.clear()
                self._generation += 1
                self._versions = versions
            self._checked_at = now


pages = PageCache()


def _load(unit, *, domain=None):
    page = RedPage.objects.filter(unit_id=unit.pk, published_at__isnull=False).first()
    if page is None:
        return None
    badge = _footer_badge(unit, domain=domain)
    if badge is None:
        return None  # every badge revoked: CONAC no longer hosts the unit's page
    values = {name: getattr(page, f"published_{name}") for name in DRAFT_FIELDS}
    return _rendered(render_page(unit, values, badge=badge, published_at=page.published_at))


def _load_for_unit(public_id):
    unit = Unit.objects.filter(public_id=public_id).first()
    return _load(unit) if unit is not None else None


def _zones():
    return {zone: suffix for suffix, zone in SUFFIXES.items()}


def domain_of_host(host):
    """(suffix, A-label) when ``host`` is a name of ours or its ``www.``, else None."""
    labels = host.split(".")
    if len(labels) == 3 and labels[0] == "www":
        labels = labels[1:]
    if len(labels) != 2:
        return None
    suffix = _zones().get(labels[1])
    return (suffix, labels[0]) if suffix else None


def _load_for_host(suffix, alabel):
    domain = (
        Domain.objects.filter(suffix=suffix, alabel=alabel, status=DomainStatus.ACTIVE).select_related("unit").first()
    )
    return _load(domain.unit, domain=domain) if domain is not None else None


def respond(rendered, request):
    """The page with its own headers: it leaves before the security middleware on a unit's host."""
    if request.method not in ("GET", "HEAD"):
        response = HttpResponseNotAllowed(["GET", "HEAD"])
        response["X-Content-Type-Options"] = "nosniff"
        return response
    not_modified = request.META.get("HTTP_IF_NONE_MATCH") == rendered.etag
    body = b"" if not_modified or request.method == "HEAD" else rendered.body
    response = HttpResponse(body, status=304 if not_modified else 200, content_type="text/html; charset=utf-8")
    if not not_modified:
        response["Content-Length"] = str(len(rendered.body))
    response["ETag"] = rendered.etag
    response["Cache-Control"] = "public, max-age=60"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = rendered.csp
    response["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


def serve_host(host, request):
    """HOST_HANDLERS entry: the published page at ``/`` of the unit's live domain (or its www.)."""
    found = domain_of_host(host)
    if found is None or request.path != "/":
        return None
    # Keyed by the domain: the name and its www. share one copy.
    rendered = pages.get(("domain", *found), lambda: _load_for_host(*found))
    return respond(rendered, request) if rendered is not None else None


def serve_unit(public_id, request):
    """The published page at the main site's path, or None (unpublished, unknown)."""
    rendered = pages.get(("unit", str(public_id)), lambda: _load_for_unit(public_id))
    return respond(rendered, request) if rendered is not None else None


def public_addresses(unit):
    """Where the published page is served: the unit's live domains (Unicode, as shown)."""
    return [
        f"http://{d.full_name}/"
        for d in Domain.objects.filter(unit_id=unit.pk, status=DomainStatus.ACTIVE).order_by("suffix", "label")
    ]
