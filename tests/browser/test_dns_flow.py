"""我的域名 → 域名解析 → 添加记录 (@ A) → 保存 → 确定 (www twin) → both 待审核 → CONAC 解析审核
审核通过 → 已生效; then a URL转发 the same way, and a rejection whose reason the unit reads.
In headless Chromium, by the labels the manual names."""

import datetime

from playwright.sync_api import Page, expect

from registry.models import DnsChange, DnsRecord, User
from tests import factories
from tests.browser.pages import SCREENSHOTS, field, log_in, log_out, say_yes

LABEL = "海淀解析"
FULL_NAME = f"{LABEL}.政务"
REASON = "目标网址不是本单位网站，请核实后重新提交。"


def open_menu(page: Page, item, heading=None):
    menu = page.get_by_role("navigation")
    menu.get_by_role("button", name="网上名称管理").click()
    menu.get_by_role("link", name=item, exact=True).click()
    expect(page.get_by_role("heading", name=heading or f"网上名称管理——{item}")).to_be_visible()


def open_dns(page: Page):
    open_menu(page, "域名业务管理——我的域名")
    page.locator("#my-domains tbody tr").filter(has_text=FULL_NAME).get_by_role("link", name="域名解析").click()
    expect(page.get_by_role("heading", name=f"域名解析：{FULL_NAME}")).to_be_visible()


def add_record(page: Page, host, rtype, value):
    field(page, "主机记录").fill(host)
    field(page, "记录类型").select_option(label=rtype)
    field(page, "记录值").fill(value)
    page.get_by_role("button", name="保存").click()


def answer_www_prompt(page: Page, answer):
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("是否允许系统自动添加相同的www转发记录")).to_be_visible()
    dialog.get_by_role("button", name=answer).click()
    done = page.get_by_role("dialog")
    expect(done.get_by_text("域名解析/转发申请提交成功，审核通过后即可生效")).to_be_visible()
    done.get_by_role("button", name="关闭").click()
    expect(page.get_by_role("dialog")).to_have_count(0)


def record_row(page: Page, host, rtype):
    rows = page.locator("#dns-records tbody tr")
    return rows.filter(has=page.locator("td:nth-child(1)", has_text=host)).filter(
        has=page.locator("td:nth-child(2)", has_text=rtype)
    )


def approve_all(page: Page, base, expected):
    log_in(page, base, "conac_dns")
    open_menu(page, "解析审核")
    expect(page.locator("#dns-queue tbody tr")).to_have_count(expected)
    page.get_by_role("checkbox", name="全选").check()
    page.get_by_role("button", name="审核通过").click()
    # One change names itself in the question; several are counted.
    say_yes(page, "确认审核通过" + ("" if expected == 1 else f" {expected} 条解析申请"))
    expect(page.get_by_text(f"已审核通过 {expected} 条解析申请")).to_be_visible()
    log_out(page)


def test_unit_adds_records_with_www_twin_conac_approves_and_rejects(live_server, page: Page):
    base = live_server.url
    unit = factories.make_unit(username="hd_dns", name="北京市海淀区示范解析单位", region_code="110108")
    factories.make_staff("conac_dns", None, role=User.Role.CONAC)
    today = datetime.date.today()
    factories.make_domain(
        unit, LABEL, status="active", registered_on=today, expires_on=today + datetime.timedelta(days=365)
    )

    # 1. @ A record, 确定 to the www prompt: both wait for review.
    log_in(page, base, "hd_dns")
    open_dns(page)
    add_record(page, "@", "A", "10.0.0.1")
    expect(page.locator(".invalid-feedback").get_by_text("私有地址")).to_be_visible()  # refused at its field
    expect(page.locator("[data-error-summary]")).to_contain_text("私有地址")  # and listed on top
    assert DnsChange.objects.count() == 0  # nothing stored
    field(page, "记录值").fill("202.96.0.10")
    page.get_by_role("button", name="保存").click()
    answer_www_prompt(page, "确定")
    expect(record_row(page, "@", "A")).to_contain_text("待审核")
    expect(record_row(page, "www", "A")).to_contain_text("待审核")
    page.screenshot(path=str(SCREENSHOTS / "dns-records.png"), full_page=True)
    log_out(page)

    # 2. CONAC approves both in 解析审核.
    approve_all(page, base, 2)

    log_in(page, base, "hd_dns")
    open_dns(page)
    expect(record_row(page, "@", "A")).to_contain_text("已生效")
    expect(record_row(page, "www", "A")).to_contain_text("已生效")
    assert DnsRecord.objects.effective().filter(domain__label=LABEL).count() == 2

    # 3. A URL转发 on a new host, 取消 is not asked (not @), approved the same way.
    add_record(page, "门户", "URL转发", "https://www.example.gov.cn/portal")
    expect(page.get_by_role("dialog").get_by_text("域名解析/转发申请提交成功，审核通过后即可生效")).to_be_visible()
    page.get_by_role("dialog").get_by_role("button", name="关闭").click()
    expect(record_row(page, "门户", "URL转发")).to_contain_text("待审核")
    log_out(page)
    approve_all(page, base, 1)

    # 4. A second URL转发 that CONAC rejects; the unit reads the reason.
    log_in(page, base, "hd_dns")
    open_dns(page)
    expect(record_row(page, "门户", "URL转发")).to_contain_text("已生效")
    add_record(page, "旧站", "URL转发", "http://old.example.com/")
    page.get_by_role("dialog").get_by_role("button", name="关闭").click()
    log_out(page)

    log_in(page, base, "conac_dns")
    open_menu(page, "解析审核")
    page.get_by_role("checkbox", name="全选").check()
    field(page, "审核意见").fill(REASON)
    page.get_by_role("button", name="审核不通过").click()
    say_yes(page)
    expect(page.get_by_text("已审核不通过 1 条解析申请")).to_be_visible()
    log_out(page)

    log_in(page, base, "hd_dns")
    open_dns(page)
    row = record_row(page, "旧站", "URL转发")
    expect(row).to_contain_text("审核不通过")
    expect(row).to_contain_text(REASON)
