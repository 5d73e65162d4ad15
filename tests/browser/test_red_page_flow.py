"""网络红页 in headless Chromium, by its visible labels: a 事业单位 whose badge was issued edits
its page, looks at 预览, clicks 发布红页; the public page — at the main site's path and at the
unit's own domain by Host — shows the content and the badge, under its strict CSP."""

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from badges import redpages
from badges.models import Badge, RedPage
from badges.queries import badge_script_url
from registry.models import User
from tests import factories
from tests.badges.helpers import approve_both, submit
from tests.browser.pages import SCREENSHOTS, field, log_in

DOMAIN_ALABEL = "xn--1jq52sdstmiaq02cp0nxf1b.xn--55qw42g"  # 海淀示范图书馆.公益


@pytest.fixture(autouse=True)
def _fresh_pages():
    redpages.pages.clear()
    yield
    redpages.pages.clear()


def library_with_badge():
    """A 事业单位 with a live .公益 name and a 网络红页 badge, both tiers approved."""
    unit = factories.make_unit(
        username="hd_rp", name="北京市海淀区示范图书馆", region_code="110108", kind="institution"
    )
    office = factories.make_staff("hd_rp_staff", "110108")
    conac = factories.make_staff("conac_rp", None, role=User.Role.CONAC)
    today = datetime.date.today()
    domain = factories.make_domain(
        unit, "海淀示范图书馆", status="active", registered_on=today, expires_on=today + datetime.timedelta(days=365)
    )
    approve_both(submit(domain, mount_method="redpage", server_ip="", home_url=""), office, conac)
    return unit, domain, Badge.objects.get(unit=unit)


def test_unit_previews_and_publishes_its_red_page(live_server, page: Page):
    base = live_server.url
    unit, domain, badge = library_with_badge()
    assert domain.full_alabel == DOMAIN_ALABEL

    log_in(page, base, "hd_rp")
    page.get_by_role("navigation").get_by_role("link", name="网络红页").click()
    expect(page.get_by_role("heading", name="网络红页", exact=True)).to_be_visible()
    expect(page.get_by_text("尚未发布")).to_be_visible()
    field(page, "单位简介").fill(
        '<h2>本馆概况</h2><p>海淀区示范图书馆面向公众开放。<img src=x onerror="alert(1)"></p>'
        '<p style="display:none">隐藏的文字</p>'
    )
    field(page, "机构职能").fill("负责图书借阅。\n开展阅读推广。")
    field(page, "单位地址").fill("北京市海淀区示范路1号")
    field(page, "联系电话").fill("010-12345678")
    field(page, "页脚").fill("</footer><style>#conac-badge{display:none}</style><p>版权所有：海淀区示范图书馆</p><!--")

    page.get_by_role("button", name="预览").click()
    preview = page.frame_locator('iframe[title="网络红页预览"]')
    expect(preview.get_by_role("heading", name="本馆概况")).to_be_visible()
    expect(preview.get_by_text("隐藏的文字")).to_be_visible()  # the hiding style is gone
    expect(preview.get_by_text("版权所有：海淀区示范图书馆")).to_be_visible()
    # Scripts do not run in the preview: the badge shows as its no-JavaScript link.
    expect(preview.get_by_role("link", name="事业单位网站标识")).to_have_attribute(
        "href", re.compile(rf"/certificate/{badge.certificate_id}/$")
    )
    assert not RedPage.objects.filter(unit=unit).exists()  # 预览 saves nothing

    page.get_by_role("button", name="发布红页").click()
    expect(page.get_by_text("网络红页已发布")).to_be_visible()
    badge.refresh_from_db()
    assert badge.get_status_display() == "已挂标"

    public_url = f"{base}/redpage/{unit.public_id}/"
    expect(page.get_by_role("link", name=public_url)).to_be_visible()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    response = page.goto(public_url)
    assert response.status == 200 and "script-src https://bszs.conac.cn" in response.headers["content-security-policy"]
    assert_public_page(page, badge)
    page.screenshot(path=str(SCREENSHOTS / "redpage-public.png"), full_page=True)
    assert dialogs == []


def assert_public_page(page: Page, badge):
    expect(page.get_by_role("heading", name="北京市海淀区示范图书馆")).to_be_visible()
    expect(page.get_by_role("heading", name="本馆概况")).to_be_visible()
    expect(page.get_by_text("海淀区示范图书馆面向公众开放。")).to_be_visible()
    expect(page.get_by_text("北京市海淀区示范路1号")).to_be_visible()
    expect(page.get_by_text("010-12345678")).to_be_visible()
    expect(page.get_by_text("版权所有：海淀区示范图书馆")).to_be_visible()
    # The badge: the snippet after the unit's footer, and the link to its 标识证书, visible.
    badge_block = page.locator("footer #conac-badge")
    expect(badge_block).to_be_visible()
    expect(badge_block.locator("#_ideConac")).to_have_count(1)
    expect(badge_block.locator("script")).to_have_attribute("src", badge_script_url(badge))
    expect(page.get_by_role("link", name=f"标识证书 {badge.code}")).to_have_attribute(
        "href", re.compile(rf"/certificate/{badge.certificate_id}/$")
    )
    # The page's own style is allowed by its hash (the blue masthead of a 事业单位).
    expect(page.locator("header.masthead")).to_have_css("background-color", "rgb(10, 76, 154)")


def test_the_published_page_at_the_units_own_domain(live_server, browser_type, browser_type_launch_args):
    unit, domain, badge = library_with_badge()
    redpages.publish_red_page(
        unit,
        actor=factories.unit_user(unit),
        draft={
            "intro": "<h2>本馆概况</h2><p>海淀区示范图书馆面向公众开放。</p>",
            "address": "北京市海淀区示范路1号",
            "phone": "010-12345678",
            "footer": "<p>版权所有：海淀区示范图书馆</p>",
        },
    )
    port = live_server.url.rsplit(":", 1)[1]
    args = [*browser_type_launch_args["args"], f"--host-resolver-rules=MAP *{DOMAIN_ALABEL} 127.0.0.1, MAP * ~NOTFOUND"]
    browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
    try:
        for javascript in (True, False):
            context = browser.new_context(java_script_enabled=javascript)
            page = context.new_page()
            page.set_default_timeout(5_000)
            for host in ("海淀示范图书馆.公益", f"www.{DOMAIN_ALABEL}"):
                response = page.goto(f"http://{host}:{port}/")
                assert response.status == 200
                assert_public_page(page, badge)
                if not javascript:
                    # Without JavaScript the badge is the image link to the certificate.
                    expect(page.get_by_role("link", name="事业单位网站标识")).to_have_attribute(
                        "href", re.compile(rf"/certificate/{badge.certificate_id}/$")
                    )
            context.close()
    finally:
        browser.close()
