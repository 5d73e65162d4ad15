"""附件1 and 附件2 in headless Chromium, by the labels the manual names: a 党政机关 applies for
网站开办审核, both tiers approve, the unit prints 申请函 and 申请表, the office clicks 资料确认,
the unit finds the code and the snippet in 标识管理; an 事业单位's 标识申请 is rejected,
corrected and re-submitted, and its badge is issued at CONAC's approval without paper."""

import datetime
import subprocess  # nosec B404

from django.core import mail
from playwright.sync_api import Page, expect

from badges.models import Badge, WebsiteApplication
from conac import sms
from registry.models import User
from tests import factories
from tests.browser.pages import SCREENSHOTS, field, log_in, log_out, say_yes


def _active(unit, label):
    today = datetime.date.today()
    return factories.make_domain(
        unit, label, status="active", registered_on=today, expires_on=today + datetime.timedelta(days=365)
    )


def approve_in_queue(page: Page, base, username, site_name):
    log_in(page, base, username)
    page.get_by_role("navigation").get_by_role("link", name="网站开办及标识申请审核").click()
    page.get_by_role("checkbox", name=f"选择 {site_name}").check()
    page.get_by_role("button", name="审核通过").click()
    say_yes(page)
    expect(page.get_by_text("已审核通过 1 份申请")).to_be_visible()
    log_out(page)


def pdf_text(page: Page, link_name, tmp_path):
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).first.click()
    path = tmp_path / f"{link_name}.pdf"
    info.value.save_as(path)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout  # noqa: S603,S607


def test_organ_applies_both_tiers_approve_paper_confirmed_badge_issued(live_server, page: Page, tmp_path):
    base = live_server.url
    unit = factories.make_unit(username="hd_site", name="北京市海淀区示范街道办事处", region_code="110108")
    factories.make_staff("hd_site_staff", "110108")
    factories.make_staff("conac_site", None, role=User.Role.CONAC)
    _active(unit, "海淀示范街道")
    sms.outbox.clear()
    mail.outbox.clear()

    log_in(page, base, "hd_site")
    page.get_by_role("navigation").get_by_role("link", name="网站开办审核/资质复核申请").click()
    expect(page.get_by_role("heading", name="申请说明")).to_be_visible()
    page.get_by_role("link", name="点击申请").click()
    field(page, "申请类型").select_option(label="网站开办审核")
    field(page, "网站名称").fill("海淀区示范街道门户网站")
    field(page, "中文域名").select_option(label="海淀示范街道.政务")
    field(page, "挂标方式").select_option(label="自建网站")
    field(page, "网站服务器IP地址").fill("202.96.0.10")
    field(page, "网站首页地址").fill("http://www.example.com/")
    field(page, "网站简介").fill("街道政务公开与办事服务。")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator(".invalid-feedback").get_by_text("网站首页地址须在本申请的域名之下")).to_be_visible()
    expect(page.locator("[data-error-summary]")).to_contain_text("网站首页地址须在本申请的域名之下")
    field(page, "网站首页地址").fill("http://海淀示范街道.政务/")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#applications")).to_contain_text("待审核")
    log_out(page)

    approve_in_queue(page, base, "hd_site_staff", "海淀区示范街道门户网站")
    approve_in_queue(page, base, "conac_site", "海淀区示范街道门户网站")

    log_in(page, base, "hd_site")
    page.get_by_role("navigation").get_by_role("link", name="网站开办审核/资质复核申请").click()
    expect(page.locator("#applications")).to_contain_text("待资料确认")
    letter = pdf_text(page, "打印申请函", tmp_path)
    assert "关于申请对网站开办审核和资格复核的函" in letter
    assert "北京市海淀区示范街道办事处" in letter and "海淀示范街道.政务" in letter and "北京市海淀区委编办" in letter
    form = pdf_text(page, "打印申请表", tmp_path)
    assert "党政机关网站开办审核和资格复核申请表" in form and "海淀示范街道.政务" in form
    log_out(page)

    log_in(page, base, "hd_site_staff")
    page.get_by_role("navigation").get_by_role("link", name="网站开办及标识申请审核").click()
    page.get_by_role("link", name="资料确认 海淀区示范街道门户网站").click()
    page.get_by_role("button", name="资料确认").click()
    say_yes(page, "资料确认？")
    expect(page.get_by_text("资料确认完成，已发放网站标识")).to_be_visible()
    log_out(page)

    badge = Badge.objects.get()
    log_in(page, base, "hd_site")
    page.get_by_role("navigation").get_by_role("button", name="网上名称管理").click()
    page.get_by_role("navigation").get_by_role("link", name="标识管理").click()
    expect(page.get_by_text(f"标识编号 {badge.code}")).to_be_visible()
    snippet = page.get_by_label("标识代码")
    expect(snippet).to_have_value(
        f'<span id="_ideConac"></span><script type="text/javascript" src="https://bszs.conac.cn/js/11/001/0008/{badge.code[11:19]}/{badge.code}.js"></script>'
    )
    expect(page.get_by_role("button", name="复制代码")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "badge-manage.png"), full_page=True)
    assert any(badge.code in m["body"] and m["to"] == unit.contact_mobile for m in sms.outbox)
    assert any(badge.code in m.body and m.to == [unit.contact_email] for m in mail.outbox)


def test_institution_rejected_resubmits_badge_issued_without_paper(live_server, page: Page):
    base = live_server.url
    unit = factories.make_unit(
        username="hd_lib", name="北京市海淀区示范图书馆", region_code="110108", kind="institution"
    )
    factories.make_staff("hd_lib_staff", "110108")
    factories.make_staff("conac_lib", None, role=User.Role.CONAC)
    _active(unit, "海淀示范图书馆")

    log_in(page, base, "hd_lib")
    page.get_by_role("navigation").get_by_role("button", name="网上名称管理").click()
    page.get_by_role("navigation").get_by_role("link", name="标识申请").click()
    page.get_by_role("link", name="点击申请").click()
    field(page, "网站名称").fill("海淀区示范图书馆网站")
    field(page, "中文域名").select_option(label="海淀示范图书馆.公益")
    field(page, "挂标方式").select_option(label="网络红页")
    field(page, "网站简介").fill("图书借阅与阅读推广。")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#applications")).to_contain_text("待审核")
    log_out(page)

    log_in(page, base, "hd_lib_staff")
    page.get_by_role("navigation").get_by_role("link", name="网站开办及标识申请审核").click()
    page.get_by_role("checkbox", name="选择 海淀区示范图书馆网站").check()
    field(page, "审核意见").fill("网站名称须与单位名称一致。")
    page.get_by_role("button", name="审核不通过").click()
    say_yes(page)
    expect(page.get_by_text("已审核不通过 1 份申请")).to_be_visible()
    log_out(page)

    log_in(page, base, "hd_lib")
    page.get_by_role("navigation").get_by_role("button", name="网上名称管理").click()
    page.get_by_role("navigation").get_by_role("link", name="标识申请").click()
    expect(page.locator("#applications")).to_contain_text("网站名称须与单位名称一致。")
    page.locator("#applications").get_by_role("link", name="修改", exact=True).click()
    field(page, "网站名称").fill("北京市海淀区示范图书馆")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#applications")).to_contain_text("待审核")
    log_out(page)

    approve_in_queue(page, base, "hd_lib_staff", "北京市海淀区示范图书馆")
    approve_in_queue(page, base, "conac_lib", "北京市海淀区示范图书馆")
    assert WebsiteApplication.objects.get().status == "issued"

    log_in(page, base, "hd_lib")
    page.get_by_role("navigation").get_by_role("button", name="网上名称管理").click()
    page.get_by_role("navigation").get_by_role("link", name="标识管理").click()
    badge = Badge.objects.get()
    assert badge.kind == "blue"
    expect(page.get_by_text(f"标识编号 {badge.code}")).to_be_visible()
