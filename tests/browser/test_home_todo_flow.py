"""首页 as a to-do list, in headless Chromium: a count and a chart bar each lead to exactly the
rows they counted; the page fits a phone's width and has no serious accessibility violation."""

import datetime
import re

from django.utils import timezone
from playwright.sync_api import Page, expect

from registry.models import User
from review import services as review
from tests import factories
from tests.browser.pages import SCREENSHOTS, axe_violations, describe_violations, log_in, log_out, page_overflow


def test_office_and_conac_follow_their_counts_to_the_filtered_lists(live_server, page: Page):
    base = live_server.url
    unit = factories.make_unit(username="hd_unit", name="北京市海淀区示范局", region_code="110108")
    shanghai = factories.make_unit(username="sh_unit", name="上海市示范局", region_code="310000", level="province")
    office = factories.make_staff("hd_staff", "110108")
    factories.make_staff("sh_staff", "310000")
    factories.make_staff("conac_staff", None, role=User.Role.CONAC)
    long_ago = timezone.now() - datetime.timedelta(days=30)
    factories.make_domain(unit, "海淀待审核甲")
    factories.make_domain(unit, "海淀待审核乙", submitted_at=long_ago)
    factories.make_domain(shanghai, "上海待审核")
    review.approve(factories.make_domain(unit, "海淀待复审"), actor=office)

    # 编办: "2 个 待审核域名, 其中 1 个已超过 5 个工作日" → the queue with those two.
    log_in(page, base, "hd_staff")
    todo = page.locator("#todo")
    count = todo.get_by_role("link", name=re.compile(r"^2 个\s*待审核域名$"))
    expect(count).to_be_visible()
    expect(todo).to_contain_text("其中 1 个已超过 5 个工作日")
    count.click()
    expect(page).to_have_url(f"{base}/domains/review/office/")
    expect(page.locator("#queue tbody tr").filter(has_text="海淀待审核")).to_have_count(2)
    log_out(page)

    # CONAC: the bar for 北京市 in 各省编办待审核域名 → 域名查询 limited to 北京市's offices.
    log_in(page, base, "conac_staff")
    expect(page.locator("#todo").get_by_role("link", name=re.compile(r"^1 个\s*待复审域名$"))).to_be_visible()
    for width in (1366, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert page_overflow(page) == 0, f"首页 scrolls sideways at {width} px"
        page.screenshot(path=str(SCREENSHOTS / f"home-conac-{width}.png"), full_page=True)
    violations = axe_violations(page)
    assert not violations, "\n".join(describe_violations(violations))
    page.set_viewport_size({"width": 1366, "height": 900})
    chart = page.get_by_role("figure", name="各省编办待审核域名")
    bar = chart.get_by_role("link", name="北京市：2 个")
    expect(chart.get_by_role("link", name="上海市：1 个")).to_be_visible()
    bar.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/domains/search/?status=pending_local&province=11")
    expect(page.locator("#province-filter")).to_contain_text("仅显示北京市（省级编办及其下级编办）的域名")
    rows = page.locator("#domains tbody tr")
    expect(rows.filter(has_text="海淀待审核")).to_have_count(2)
    expect(rows.filter(has_text="上海待审核")).to_have_count(0)
    log_out(page)

    # 申报单位: its domains by state, each with the next step; 待审核 → 我的域名 with those two.
    log_in(page, base, "hd_unit")
    mine = page.locator("#todo")
    expect(mine).to_contain_text("下一步：等待北京市海淀区委编办审核")
    page.set_viewport_size({"width": 375, "height": 900})
    assert page_overflow(page) == 0
    page.screenshot(path=str(SCREENSHOTS / "home-unit-375.png"), full_page=True)
    mine.get_by_role("link", name=re.compile(r"^2 个\s*待审核$")).click()
    expect(page).to_have_url(f"{base}/domains/mine/?status=pending_local")
    expect(page.locator("#my-domains tbody tr")).to_have_count(2)
    expect(page.locator("#my-domains")).to_contain_text("等待北京市海淀区委编办审核")
    assert page_overflow(page) == 0
    page.screenshot(path=str(SCREENSHOTS / "my-domains-375.png"), full_page=True)
    violations = axe_violations(page)
    assert not violations, "\n".join(describe_violations(violations))
