"""Deny by default: every view declares who may use it.

A view is decorated with :func:`allow` naming its audience (``PUBLIC``, ``AUTHENTICATED``,
``UNIT``, ``OFFICE``, ``CONAC``, ``STAFF`` = office or CONAC, ``STAFF_OR_ADMIN`` = those
who sign in with 双重验证: office or CONAC staff and administrators). The middleware refuses
any view that declares nothing (403), sends anonymous visitors of a protected view
to the login page, and refuses users of the wrong role (403). Objects outside a
user's jurisdiction are filtered by each model's ``visible_to`` and answer 404.

Staff who passed the password but still owe the second step (双重验证, see
:mod:`conac.two_factor`) are sent to it from every page but the public ones, the
双重验证 pages themselves and the admin's.

The Django admin carries its own staff/superuser checks; only the second step is
required here.
"""

from functools import lru_cache

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django_htmx.http import HttpResponseClientRedirect

from . import two_factor

PUBLIC = "public"
AUTHENTICATED = "authenticated"
UNIT = "unit"
OFFICE = "office"
CONAC = "conac"
STAFF = "staff"  # office or CONAC staff
STAFF_OR_ADMIN = "staff_or_admin"  # office or CONAC staff, administrators: who sign in with 双重验证

AUDIENCES = {PUBLIC, AUTHENTICATED, UNIT, OFFICE, CONAC, STAFF, STAFF_OR_ADMIN}
ROLE_AUDIENCES = {
    UNIT: {"unit"},
    OFFICE: {"office"},
    CONAC: {"conac"},
    STAFF: {"office", "conac"},
}
ADMIN_NAMESPACES = {"admin"}


def allow(audience, *, before_second_step=False):
    """Declare who may use the decorated view (function or class-based).

    ``before_second_step``: also open to staff who have not yet passed 双重验证 (its own pages).
    """
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")

    def decorate(view):
        view.access_rule = audience
        if before_second_step:
            view.before_second_step = True
        return view

    return decorate


def rule_of(view_func):
    rule = getattr(view_func, "access_rule", None)
    if rule is None and hasattr(view_func, "view_class"):
        rule = getattr(view_func.view_class, "access_rule", None)
    return rule


def _open_before_second_step(view_func):
    return bool(
        getattr(view_func, "before_second_step", False)
        or getattr(getattr(view_func, "view_class", None), "before_second_step", False)
    )


def permits(user, audience):
    if audience == PUBLIC:
        return True
    if not user.is_authenticated or not user.is_active:
        return False
    if audience == AUTHENTICATED:
        return True
    if audience == STAFF_OR_ADMIN:
        return two_factor.applies_to(user)
    return getattr(user, "role", None) in ROLE_AUDIENCES[audience]


def _second_step(request):
    """Staff who owe 双重验证 are sent to it, then back to the page they asked for."""
    step = two_factor.next_step(request.user)
    if step is None:
        return None
    htmx = getattr(request, "htmx", None)
    if htmx:
        # A partial asked for from a page: the whole browser goes, and comes back to that page.
        return HttpResponseClientRedirect(two_factor.step_url(step, htmx.current_url_abs_path or "/"))
    return redirect(two_factor.step_url(step, request.get_full_path()))


class AccessRuleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is not None and ADMIN_NAMESPACES.intersection(match.namespaces):
            # The admin's own checks decide who gets in; a password alone is not enough there.
            return None if match.url_name == "logout" else _second_step(request)
        audience = rule_of(view_func)
        if audience is None:
            raise PermissionDenied("此页面未声明访问规则")
        if permits(request.user, audience):
            if audience == PUBLIC or _open_before_second_step(view_func):
                return None
            return _second_step(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        raise PermissionDenied("您无权访问此页面")


# --- Menus --------------------------------------------------------------------------
# The menus of GLOSSARY.md, per role, letter for letter. An item appears only once
# its URL exists (``reverse`` succeeds), so features add themselves to the menu.
MENUS = {
    "unit": [
        ("网上名称管理", "域名申请", "registry:domain-apply"),
        ("网上名称管理", "域名业务管理——我的域名", "registry:my-domains"),
        ("网上名称管理", "标识申请", "badges:badge-apply"),
        ("网上名称管理", "标识管理", "badges:badge-manage"),
        ("", "网站开办审核/资质复核申请", "badges:website-apply"),
        ("", "网络红页", "badges:redpage-edit"),
    ],
    "office": [
        ("网上名称管理", "待审核域名", "registry:domain-office-queue"),
        ("网上名称管理", "域名查询", "registry:domain-search"),
        ("网上名称管理", "待缴费域名", "billing:unpaid-charges"),
        ("用户管理", "申报单位管理/缴费", "registry:unit-list"),
        ("", "网站开办及标识申请审核", "badges:review-queue"),
        ("", "汇款管理", "billing:remittance-list"),
        ("", "对账报表", "billing:reconciliation"),
    ],
    "conac": [
        ("网上名称管理", "待复审域名", "registry:domain-conac-queue"),
        ("网上名称管理", "域名查询", "registry:domain-search"),
        ("网上名称管理", "解析审核", "registry:dns-review"),
        ("", "网站开办及标识申请审核", "badges:review-queue"),
        ("", "认款管理", "billing:remittance-confirm-list"),
        ("", "对账报表", "billing:reconciliation"),
    ],
}


# Items for one kind of unit only: the website review is for 党政机关, the badge
# application for 事业单位 and 社会组织 (附件1, 附件2).
UNIT_KIND_ITEMS = {"badges:website-apply": {"organ"}, "badges:badge-apply": {"institution", "social_org"}}


def menu_for(user):
    """The role's menu as ((menu, ((label, url), ...)), ...), features that exist only."""
    role = getattr(user, "role", None)
    unit_kind = getattr(getattr(user, "unit", None), "kind", None) if role == "unit" else None
    return _menu(role, unit_kind, get_script_prefix(), get_urlconf())


@lru_cache(maxsize=64)
def _menu(role, unit_kind, script_prefix, urlconf):
    """Built once per process for each role (and kind of unit): the URLs do not change."""
    groups = []
    for menu, item, url_name in MENUS.get(role, []):
        if unit_kind and url_name in UNIT_KIND_ITEMS and unit_kind not in UNIT_KIND_ITEMS[url_name]:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        key = menu or item
        if groups and groups[-1][0] == key:
            groups[-1][1].append((item, url))
        else:
            groups.append((key, [(item, url)]))
    return tuple((key, tuple(items)) for key, items in groups)


def menu(request):
    """Context processor: the signed-in user's menus."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"menu_groups": []}
    return {"menu_groups": menu_for(user), "two_factor_applies": two_factor.applies_to(user)}
