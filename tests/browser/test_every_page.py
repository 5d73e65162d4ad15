"""Every page each persona reaches from its menus, on a desktop (1366 px) and a phone (375 px):
the page never scrolls sideways (wide tables scroll inside their own container) and axe-core
finds no serious or critical WCAG 2.1 A/AA violation.

The walk is driven by the pages themselves, over the demo data of ``manage.py seed_demo``:
each persona signs in once, starts from its home page, its menu and the links beside it (修改密码,
双重验证; the admin index for CONAC and the administrator) and follows the links it finds two
steps deep, visiting one page per URL pattern (and per ``tab``), so a page added to a menu is
checked without touching this file. Anonymous visitors get the login, registration and the
public 标识证书 and 网络红页 pages. Every page is saved as a screenshot at both widths under
``var/screenshots/every-page/``; a few go to the README (``UPDATE_SCREENSHOTS=1``).
"""

import re
import shutil
import time
from io import StringIO
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.management import call_command
from django.urls import Resolver404, resolve
from playwright.sync_api import Browser, Page, expect

from badges import redpages
from badges.models import Badge, BadgeStatus
from registry.models import Unit
from registry.organisations.demo import STAFF_ACCOUNTS, UNIT_PASSWORD
from tests.browser.pages import SCREENSHOTS, axe_violations, describe_violations, log_in, page_overflow

WIDTHS = (1366, 375)
HEIGHT = 900
# A table scrolling inside its box must be reachable by keyboard (WCAG 2.1.1).
PHONE_RULES = ["scrollable-region-focusable", "meta-viewport"]
FOLLOW_DEPTH = 2  # menu page → its links → theirs (a domain → its 域名解析)
EVERY_PAGE = Path(settings.BASE_DIR) / "var" / "screenshots" / "every-page"

STAFF_PASSWORDS = {username: password for username, password, *_ in STAFF_ACCOUNTS}
PERSONAS = [
    # name, username, password, how many steps beyond the menu to follow
    ("anonymous", None, None, FOLLOW_DEPTH),
    ("unit-organ", "hd_organ", UNIT_PASSWORD, FOLLOW_DEPTH),  # 党政机关: DNS records, 网站开办审核
    ("unit-institution", "hd_inst", UNIT_PASSWORD, FOLLOW_DEPTH),  # 事业单位: 标识申请, 网络红页
    ("office-county", "hdbb", STAFF_PASSWORDS["hdbb"], FOLLOW_DEPTH),
    # The same pages with a province's data (offices under it, the longest variant lists): its menu only.
    ("office-province", "bjbb", STAFF_PASSWORDS["bjbb"], 0),
    ("conac", "conac", STAFF_PASSWORDS["conac"], FOLLOW_DEPTH),
    ("admin", "admin", "Admin12345", FOLLOW_DEPTH),
]

# Links that are not pages: files (PDF, Excel) and actions. Anything else a page links to is walked.
NOT_PAGES = {
    "logout",
    "admin:logout",
    "admin:view_on_site",
    "admin:jsi18n",
    "admin:autocomplete",
    "registry:domain-export",
    "billing:reconciliation-export",
    "badges:application-document",
    "badges:badge-certificate",
    "billing:marking-receipt",
    "exports:download",
}
# In the admin only what its index links to: each model's list and add form, each app's index.
ADMIN_PAGES = re.compile(r"^admin:(index|app_list|password_change|\w+_changelist|\w+_add)$")
# A few of the pages as the README shows them (saved when UPDATE_SCREENSHOTS=1).
README_SHOTS = {
    ("office-county", "registry:domain-search", 375): "phone-domain-search.png",
    ("conac", "billing:reconciliation", 375): "phone-reconciliation.png",
    ("unit-organ", "registry:my-domains", 375): "phone-my-domains.png",
    ("office-county", "registry:unit-list?unit", 375): "phone-unit-management.png",
}


def page_key(url):
    """One visit per URL pattern and state: the name of the view a link leads to, with the query
    parameters that change what the page shows (a ``tab``; the ``unit`` whose 详细信息 panel is
    open), or None when it is not a page of this site to walk. Filters and pages of a list are
    the same page."""
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    name = match.view_name
    if name in NOT_PAGES or parts.path.endswith(".pdf"):
        return None
    if name.startswith("admin:") and not ADMIN_PAGES.match(name):
        return None
    query = parse_qs(parts.query)
    state = [f"tab={query['tab'][0]}"] if "tab" in query else []
    state += ["unit"] if "unit" in query else []
    return f"{name}?{'&'.join(state)}" if state else name


def same_site_links(page: Page, base):
    hrefs = page.eval_on_selector_all(
        "a[href]", "links => links.map(a => new URL(a.getAttribute('href'), document.baseURI).href)"
    )
    return [h.split("#")[0] for h in hrefs if h.startswith(base + "/")]


def start_pages(page: Page, base, persona, username):
    """Where the persona's walk begins: its home page, menu and the links beside it."""
    if username is None:
        pages = [f"{base}/login/", f"{base}/register/"]
        badge = Badge.objects.exclude(status=BadgeStatus.REVOKED).order_by("id").first()
        if badge is not None:
            pages.append(f"{base}/certificate/{badge.certificate_id}/")
        published = Unit.objects.filter(red_page__published_at__isnull=False).order_by("id").first()
        if published is not None:
            pages.append(f"{base}/redpage/{published.public_id}/")
        return pages
    page.goto(f"{base}/")
    menu = page.get_by_role("navigation", name="主菜单")
    links = menu.locator("a[href]").evaluate_all("links => links.map(a => a.href)")  # HTML links only
    pages = [f"{base}/", *(h for h in links if h.startswith(base + "/"))]
    if persona in ("conac", "admin"):
        pages.append(f"{base}/admin/")
    return pages


def check_page(page: Page, persona, number, key, path):
    """The page as it is now, at each width: problems as readable lines, screenshots saved.

    The phone width is saved as a full-page picture, to be looked at.
    """
    problems = []
    slug = re.sub(r"[^\w-]+", "-", key).strip("-")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        settle(page)
        overflow = page_overflow(page)
        if overflow > 0:
            problems.append(f"{width} px: the page scrolls sideways by {overflow} px")
        # The whole rule set once, at the desktop width where the whole menu shows (the contrast
        # rules are most of the walk's time); at the phone width the rules that depend on layout.
        violations = axe_violations(page, rules=None if width == WIDTHS[0] else PHONE_RULES)
        if violations:
            problems.append(f"{width} px: axe-core")
            problems.extend(describe_violations(violations))
        shot = EVERY_PAGE / persona / f"{number:02d}-{slug}-{width}.png"
        # Full length on the phone, to be looked at; the admin's long lists only as far as the screen.
        page.screenshot(path=shot, full_page=width < 768 and not key.startswith("admin:"), timeout=30_000)
        readme_name = README_SHOTS.get((persona, key, width))
        if readme_name:
            shutil.copyfile(shot, SCREENSHOTS / readme_name)
    return [f"{path} ({key})", *(f"  {p}" for p in problems)] if problems else []


def settle(page: Page):
    """Two animation frames: the new width laid out and the page's resize observers run."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def check_phone_menu(page: Page, base, persona):
    """On a phone the menu folds behind the 菜单 button; opened, every item fits the screen."""
    page.set_viewport_size({"width": WIDTHS[-1], "height": HEIGHT})
    page.goto(f"{base}/")
    page.get_by_role("button", name="菜单").click()
    menu = page.locator("#mainnav")
    expect(menu).to_be_visible()
    expect(menu).not_to_have_class(re.compile(r"collapsing"))
    page.screenshot(path=EVERY_PAGE / persona / f"00-menu-{WIDTHS[-1]}.png", full_page=True)
    too_wide = menu.locator("a, button, .navbar-text").evaluate_all(
        "items => items.filter(i => i.getBoundingClientRect().right > document.documentElement.clientWidth)"
        ".map(i => i.textContent.trim())"
    )
    overflow = page_overflow(page)
    if too_wide or overflow:
        return [f"/ (the menu opened at {WIDTHS[-1]} px)", f"  cut off: {too_wide}, page scrolls by {overflow} px"]
    return []


def walk(browser: Browser, base, persona, username, password, follow_depth, admin_seen):
    """Visit every page of the persona's walk; return (pages visited, problem lines).

    An admin page is the same for CONAC and the administrator (Django's templates, one model):
    ``admin_seen`` carries those already visited from one persona to the next."""
    # bypass_csp: the public pages' strict CSP would refuse the injected axe-core, and only it.
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": HEIGHT}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    shutil.rmtree(EVERY_PAGE / persona, ignore_errors=True)
    (EVERY_PAGE / persona).mkdir(parents=True)
    try:
        problems = []
        if username:
            log_in(page, base, username, password)
            problems.extend(check_phone_menu(page, base, persona))
        queue = [(url, 0) for url in start_pages(page, base, persona, username)]
        seen, visited = set(), []
        while queue:
            url, depth = queue.pop(0)
            key = page_key(url)
            if key is None or key in seen or key in admin_seen:
                continue
            seen.add(key)
            if key.startswith("admin:") and key != "admin:index":
                admin_seen.add(key)
            page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
            response = page.goto(url)
            path = url.removeprefix(base)
            visited.append(path)
            if response is None or response.status != 200:
                problems.append(f"{path} ({key})\n  answered {response.status if response else 'nothing'}")
                continue
            from_admin_index = key == "admin:index"
            if depth < follow_depth and (not key.startswith("admin:") or from_admin_index):
                for link in same_site_links(page, base):
                    link_key = page_key(link)
                    if link_key and (from_admin_index or not link_key.startswith("admin:")):
                        queue.append((link, depth + 1))
            problems.extend(check_page(page, persona, len(visited), key, path))
        return visited, problems
    finally:
        context.close()


def test_every_page_fits_a_phone_and_passes_axe_for_every_persona(live_server, browser: Browser):
    started = time.monotonic()
    call_command("seed_demo", stdout=StringIO())
    print(f"seed_demo: {time.monotonic() - started:.1f} s")
    library = Unit.objects.get(account__username="hd_inst")  # has a 网络红页 badge: its page, published
    if redpages.may_edit(library):
        redpages.publish_red_page(library, actor=library.account, draft={"intro": "海淀区示范图书馆的网络红页。"})
    base = live_server.url
    report, counts, admin_seen = [], {}, set()
    for persona, username, password, follow_depth in PERSONAS:
        started = time.monotonic()
        visited, problems = walk(browser, base, persona, username, password, follow_depth, admin_seen)
        print(f"{persona}: {len(visited)} pages in {time.monotonic() - started:.1f} s")
        counts[persona] = len(visited)
        if problems:
            report.append(f"== {persona} ({username or 'not signed in'}) ==")
            report.extend(problems)
    (EVERY_PAGE / "report.txt").write_text("\n".join(report) + "\n")
    assert not report, "Pages that scroll sideways or fail axe-core:\n" + "\n".join(report)
    # The walk reached the pages it is meant to: the menus were found, the links followed.
    assert counts["anonymous"] >= 4, counts
    assert all(count >= 8 for persona, count in counts.items() if persona != "anonymous"), counts


def test_skip_link_jumps_past_the_menu(live_server, page: Page):
    """The first Tab stop is 跳到主要内容, shown while focused; Enter moves focus into <main>."""
    from tests import factories

    factories.make_unit(username="skipper", name="海淀区跳转测试局", region_code="110108")
    log_in(page, live_server.url, "skipper")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到主要内容")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is inside the page, not the menu
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
    assert not page.evaluate("document.querySelector('nav').contains(document.activeElement)")


def test_the_checks_find_a_wide_page_and_an_axe_violation(page: Page):
    """The walk's two checks can fail: a wide block and pale text are both reported."""
    page.set_viewport_size({"width": 375, "height": HEIGHT})
    page.set_content(
        '<!doctype html><html lang="zh-CN"><head><title>检查</title></head><body><main>'
        '<h1>检查</h1><p style="color:#bbb">浅色的字</p><div style="width:600px">宽的内容</div>'
        '<div class="table-responsive" style="overflow-x:auto"><table><tr><td style="white-space:nowrap">'
        + "很长的表格内容" * 20
        + "</td></tr></table></div></main></body></html>"
    )
    assert page_overflow(page) == 600 + 8 - 375  # the body's 8 px margin
    assert sorted(v["id"] for v in axe_violations(page)) == ["color-contrast", "scrollable-region-focusable"]
    assert [v["id"] for v in axe_violations(page, rules=PHONE_RULES)] == ["scrollable-region-focusable"]
