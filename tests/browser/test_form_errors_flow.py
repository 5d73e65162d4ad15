"""Errors that can be seen and reached, and dates typed whatever the browser's locale (issue 12,
items 7 and 8), in headless Chromium: the error summary takes focus after a full-page re-render and
after an htmx re-render of the 详细信息 panel; 所在地区's error is visible; the date boxes read
2026-12-31 and 2026年12月31日 and offer the vendored picker."""

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.pages import axe_violations, describe_violations, field, log_in

SUMMARY = "[data-error-summary]"


def focused_is(page: Page, selector):
    return page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector)


def test_registration_errors_are_visible_summarised_and_focused(live_server, page: Page):
    page.goto(f"{live_server.url}/register/")
    page.get_by_role("button", name="提交", exact=True).click()

    summary = page.locator(SUMMARY)
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    # 所在地区's error was in the page but hidden by Bootstrap's sibling rule: now it is seen.
    expect(page.locator("#id_region_error")).to_be_visible()
    expect(page.locator("#id_region_error")).to_have_text("请填写所在地区。")
    # Every field error on the page is visible, not only present.
    errors = page.locator(".invalid-feedback")
    assert errors.count() >= 10
    for i in range(errors.count()):
        expect(errors.nth(i)).to_be_visible()

    # A link of the summary moves focus to its field.
    summary.get_by_role("link", name="所在地区：请填写所在地区。").click()
    expect(page.locator("#id_region_0")).to_be_focused()
    # The selects are named, the second and third by their own labels.
    expect(page.get_by_label("所在地区（第2级）")).to_have_count(1)
    expect(page.get_by_label("所在地区（第3级）")).to_have_count(1)
    # The page with every error showing passes axe-core (no serious or critical violation).
    violations = axe_violations(page)
    assert not violations, "\n".join(describe_violations(violations))


def test_summary_takes_focus_after_an_htmx_rerender_of_the_detail_panel(live_server, page: Page):
    office = factories.make_staff("hd_forms", "110108")
    factories.make_unit(username="forms_unit", name="海淀区表单测试局", region_code="110108")
    log_in(page, live_server.url, office.username)
    page.goto(f"{live_server.url}/")
    page.get_by_role("navigation").get_by_role("button", name="用户管理").click()
    page.get_by_role("navigation").get_by_role("link", name="申报单位管理/缴费", exact=True).click()
    page.get_by_role("link", name="海淀区表单测试局", exact=True).click()
    panel = page.locator("#detail")
    expect(panel.get_by_role("heading", name="详细信息")).to_be_visible()
    field(panel, "联系人").fill("")
    url_before = page.url
    panel.get_by_role("button", name="修改", exact=True).click()

    summary = panel.locator(SUMMARY)
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="联系人：请填写联系人。")).to_be_visible()
    expect(panel.locator("#id_contact_error")).to_be_visible()
    assert page.url == url_before  # re-rendered in place, not a new page


@pytest.fixture
def search_page(live_server, page: Page):
    office = factories.make_staff("hd_dates", "110108")
    log_in(page, live_server.url, office.username)
    page.goto(f"{live_server.url}/domains/search/")
    return page


def test_dates_typed_in_either_format_are_read_and_a_typo_is_kept_for_the_server(search_page: Page):
    page = search_page
    box = field(page, "到期时间 (起)")
    assert box.get_attribute("type") == "text"  # not the browser's locale-bound date input

    box.fill("2026年12月31日")
    box.press("Tab")
    expect(box).to_have_value("2026-12-31")  # the picker normalises what it can read

    box.fill("12/31/2026")
    box.press("Tab")
    expect(box).to_have_value("12/31/2026")  # never silently wiped

    page.get_by_role("button", name="查询", exact=True).click()
    summary = page.locator(SUMMARY)
    expect(summary).to_be_focused()
    expect(page.locator("#id_expires_from_error")).to_have_text("请输入有效的日期，例如 2026-12-31 或 2026年12月31日。")
    expect(field(page, "到期时间 (起)")).to_have_value("12/31/2026")


def test_the_picker_is_chinese_and_writes_the_iso_date(search_page: Page):
    page = search_page
    box = field(page, "到期时间 (止)")
    box.fill("2026-12-01")
    box.press("Tab")
    box.click()
    picker = page.locator(".datepicker.active")
    expect(picker).to_be_visible()
    expect(picker.locator(".view-switch")).to_have_text("2026年12月")
    expect(picker.get_by_text("今天")).to_be_visible()
    violations = axe_violations(page)
    assert not violations, "\n".join(describe_violations(violations))
    picker.locator(".datepicker-cell.day:not(.prev):not(.next)", has_text="15").first.click()
    expect(box).to_have_value("2026-12-15")

    page.get_by_role("button", name="查询", exact=True).click()
    expect(page.locator(SUMMARY)).to_have_count(0)
    expect(field(page, "到期时间 (止)")).to_have_value("2026-12-15")
    assert "expires_to=2026-12-15" in page.url
