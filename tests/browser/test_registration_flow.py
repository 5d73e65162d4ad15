"""新用户注册 → 登录 → the office's 申报单位管理/缴费 (详细信息, 修改, 重置密码) → the unit's new password,
in headless Chromium, by the labels the manual names."""

import re

from playwright.sync_api import Page, expect

from registry.models import Unit, User
from tests import factories
from tests.browser.pages import SCREENSHOTS, field, log_in, log_out, say_yes, submit_login
from tests.registry.test_registration import code_sent_to

UNIT_NAME = "北京市海淀区数据局"
USERNAME = "hd_data"
PASSWORD = "Haidian2025"
NEW_PASSWORD = "Reset2025ok"


def choose_region(page: Page, province, county):
    field(page, "所在地区").select_option(label=province)
    # htmx replaces the selects; the second one appears filled with the province's districts.
    second = page.get_by_label("所在地区（第2级）")
    expect(second).to_be_visible()
    expect(second.get_by_role("option", name=county, exact=True)).to_have_count(1)
    second.select_option(label=county)
    expect(field(page, "所在地区")).to_have_value("110000")


def fill_registration(page: Page, *, username, password, name, credit_code, mobile="13912345678"):
    field(page, "用户名").fill(username)
    field(page, "密码").fill(password)
    field(page, "确认密码").fill(password)
    field(page, "单位名称").fill(name)
    field(page, "单位类型").select_option(label="党政机关")
    field(page, "统一社会信用代码").fill(credit_code)
    choose_region(page, "北京市", "海淀区")
    field(page, "单位级别").select_option(label="县级")
    field(page, "单位地址").fill("北京市海淀区中关村大街1号")
    field(page, "负责人").fill("张三")
    field(page, "联系人").fill("李四")
    field(page, "联系人手机").fill(mobile)
    field(page, "联系人邮箱").fill("data@example.cn")
    field(page, "经办人").fill("王五")
    field(page, "经办人身份证号").fill(factories.id_number())
    # 获取验证码 beside the mobile: the code comes by SMS (the tests' outbox) and is typed in.
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#mobile-code-status")).to_contain_text(f"验证码已发送至 {mobile}")
    field(page, "短信验证码").fill(code_sent_to(mobile))


def test_register_then_office_edits_unit_and_resets_its_password(live_server, page: Page):
    base = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # 新用户注册, linked from the login page.
    page.goto(f"{base}/login/")
    page.get_by_role("link", name="新用户注册").click()
    expect(page.get_by_role("heading", name="新用户注册")).to_be_visible()

    good_code = factories.credit_code("11", "110108")
    bad_code = good_code[:-1] + ("0" if good_code[-1] != "0" else "1")
    fill_registration(page, username=USERNAME, password=PASSWORD, name=UNIT_NAME, credit_code=bad_code)
    page.get_by_role("button", name="提交", exact=True).click()

    credit_input = field(page, "统一社会信用代码")
    expect(credit_input).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#div_id_credit_code")).to_contain_text("统一社会信用代码校验位不正确")
    expect(credit_input).to_have_value(bad_code)
    expect(page.locator(".is-invalid")).to_have_count(1)  # every other field was accepted
    page.screenshot(path=SCREENSHOTS / "registration.png", full_page=True)
    assert not Unit.objects.filter(name=UNIT_NAME).exists()
    assert not User.objects.filter(username=USERNAME).exists()

    # Passwords are not sent back to the browser: the unit types them again.
    credit_input.fill(good_code)
    field(page, "密码").fill(PASSWORD)
    field(page, "确认密码").fill(PASSWORD)
    page.get_by_role("button", name="提交", exact=True).click()

    expect(page.get_by_role("heading", name="注册成功")).to_be_visible()
    expect(page.locator("#reviewing-office")).to_have_text("北京市海淀区委编办")
    unit = Unit.objects.get(name=UNIT_NAME)
    assert unit.credit_code == good_code
    assert unit.office.name == "北京市海淀区委编办"

    # The new unit logs in and sees itself in the header.
    page.get_by_role("link", name="登录", exact=True).click()
    field(page, "用户名").fill(USERNAME)
    field(page, "密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    header = page.get_by_role("navigation")
    expect(header).to_contain_text(UNIT_NAME)
    expect(header).to_contain_text("北京市海淀区委编办")
    log_out(page)

    # 海淀区's office finds it in 用户管理——申报单位管理/缴费.
    factories.make_staff("hd_staff", "110108")
    factories.make_unit(username="hd_other", name="海淀区另一单位", region_code="110108")
    log_in(page, base, "hd_staff", factories.PASSWORD)
    menu = page.get_by_role("navigation")
    menu.get_by_role("button", name="用户管理").click()
    menu.get_by_role("link", name="申报单位管理/缴费").click()
    rows = page.locator("#unit-table tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_role("searchbox", name="单位名称").fill("数据局")
    page.get_by_role("button", name="查询").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(UNIT_NAME)
    page.get_by_role("link", name=UNIT_NAME).click()

    panel = page.locator("#detail")
    expect(panel.get_by_role("heading", name="详细信息")).to_be_visible()
    expect(field(panel, "单位名称")).to_have_value(UNIT_NAME)
    # On the right of the list, as the manual shows it.
    assert panel.bounding_box()["x"] > page.locator("#unit-table").bounding_box()["x"] + 300
    page.screenshot(path=SCREENSHOTS / "unit-management.png", full_page=True)

    field(panel, "联系人").fill("赵六")
    panel.get_by_role("button", name="修改").click()
    expect(panel.get_by_role("alert")).to_contain_text("单位信息已修改")
    unit.refresh_from_db()
    assert unit.contact == "赵六"
    expect(field(panel, "联系人")).to_have_value("赵六")

    field(panel, "新密码").fill(NEW_PASSWORD)
    panel.get_by_role("button", name="重置密码").click()
    say_yes(page, "的密码？")
    expect(panel.get_by_role("alert")).to_contain_text("密码已重置")
    assert User.objects.get(username=USERNAME).check_password(NEW_PASSWORD)
    log_out(page)

    # The old password no longer opens the account; the new one does.
    submit_login(page, base, USERNAME, PASSWORD)
    expect(page.locator(".alert-danger")).to_contain_text("密码")
    expect(page.get_by_role("button", name="退出")).to_have_count(0)
    log_in(page, base, USERNAME, NEW_PASSWORD)
    expect(page.get_by_role("navigation")).to_contain_text(UNIT_NAME)
    expect(page.get_by_role("button", name="退出")).to_be_visible()


RECORD_SUBMITS = """
window.addEventListener("submit", (event) => {
  // Runs after the page's own document-level handler: what did it leave behind?
  const seen = JSON.parse(sessionStorage.getItem("submits") || "[]");
  seen.push({disabled: event.submitter.disabled, prevented: event.defaultPrevented});
  sessionStorage.setItem("submits", JSON.stringify(seen));
});
"""


def test_submit_button_is_disabled_once_clicked(live_server, page: Page):
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.add_init_script(RECORD_SUBMITS)
    page.goto(f"{live_server.url}/register/")
    fill_registration(
        page, username="hd_double", password=PASSWORD, name="双击测试单位", credit_code=factories.credit_code()
    )
    posts.clear()  # 获取验证码 posted once already

    page.get_by_role("button", name="提交", exact=True).dblclick()

    expect(page.get_by_role("heading", name="注册成功")).to_be_visible()
    submits = page.evaluate("() => JSON.parse(sessionStorage.getItem('submits'))")
    assert submits == [{"disabled": True, "prevented": False}]
    assert len(posts) == 1
    assert Unit.objects.filter(name="双击测试单位").count() == 1


def test_code_can_be_asked_for_without_javascript(live_server, browser):
    """获取验证码 is a plain submit button too: the form goes to the code address and comes back as typed."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(5_000)
    page.goto(f"{live_server.url}/register/")
    field(page, "单位名称").fill("无脚本测试单位")
    field(page, "联系人手机").fill("13912345670")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#mobile-code-status")).to_contain_text("验证码已发送至 13912345670")
    expect(field(page, "单位名称")).to_have_value("无脚本测试单位")
    expect(field(page, "联系人手机")).to_have_value("13912345670")
    assert re.fullmatch(r"[0-9]{6}", code_sent_to("13912345670"))
    context.close()
