"""附件1 四 in headless Chromium, by the labels the manual names: the office receives a 党政机关's
paper, finds it does not match, clicks 资料不符 with a reason; the application is closed, and the
unit sees 资料不符 with the reason and may submit a new application."""

from django.core import mail
from playwright.sync_api import Page, expect

from badges.models import Badge, WebsiteApplication
from conac import sms
from registry.models import User
from review import services as review
from tests import factories
from tests.badges.helpers import live_domain, submit
from tests.browser.pages import field, log_in, log_out, say_yes


def test_paper_mismatch_closes_the_application_with_its_reason(live_server, page: Page):
    base = live_server.url
    unit = factories.make_unit(username="hd_paper", name="北京市海淀区示范街道办事处", region_code="110108")
    office = factories.make_staff("hd_paper_staff", "110108")
    conac = factories.make_staff("conac_paper", None, role=User.Role.CONAC)
    application = submit(live_domain(unit, "海淀示范街道"), site_name="海淀区示范街道门户网站")
    review.approve(application, actor=office)
    review.approve(application, actor=conac)
    sms.outbox.clear()
    mail.outbox.clear()

    log_in(page, base, "hd_paper_staff")
    page.get_by_role("navigation").get_by_role("link", name="网站开办及标识申请审核").click()
    expect(page.locator("#paper-queue")).to_contain_text("海淀区示范街道门户网站")
    page.get_by_role("link", name="资料确认 海淀区示范街道门户网站").click()
    page.get_by_role("button", name="资料不符").click()
    say_yes(page, "资料不符？")
    expect(page.get_by_text("资料不符时必须填写原因。")).to_be_visible()
    field(page, "资料不符原因").fill("申请函未加盖单位公章")
    page.get_by_role("button", name="资料不符").click()
    say_yes(page, "资料不符？")
    expect(page.get_by_text("已标记为资料不符，申请已关闭")).to_be_visible()
    expect(page.get_by_text("资料不符：申请函未加盖单位公章")).to_be_visible()
    expect(page.get_by_role("button", name="资料确认")).to_have_count(0)
    page.get_by_role("navigation").get_by_role("link", name="网站开办及标识申请审核").click()
    expect(page.locator("#paper-queue")).not_to_contain_text("海淀区示范街道门户网站")
    log_out(page)

    application.refresh_from_db()
    assert (application.status, application.paper_reason) == ("paper_mismatch", "申请函未加盖单位公章")
    assert not Badge.objects.exists()
    assert any("申请函未加盖单位公章" in m["body"] and m["to"] == application.contact_mobile for m in sms.outbox)
    assert any("申请函未加盖单位公章" in m.body for m in mail.outbox)

    log_in(page, base, "hd_paper")
    page.get_by_role("navigation").get_by_role("link", name="网站开办审核/资质复核申请").click()
    row = page.locator("#applications tbody tr").filter(has_text="海淀区示范街道门户网站")
    expect(row).to_contain_text("资料不符")
    expect(row).to_contain_text("申请函未加盖单位公章")
    expect(row.get_by_role("link", name="打印申请函")).to_have_count(0)
    # Closed: the unit submits a new application for the same site.
    page.get_by_role("link", name="点击申请").click()
    field(page, "申请类型").select_option(label="网站开办审核")
    field(page, "网站名称").fill("海淀区示范街道门户网站")
    field(page, "中文域名").select_option(label="海淀示范街道.政务")
    field(page, "挂标方式").select_option(label="网络红页")
    field(page, "网站简介").fill("街道政务公开与办事服务。")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#applications tbody tr")).to_have_count(2)
    expect(page.locator("#applications tbody tr").first).to_contain_text("待审核")
    assert WebsiteApplication.objects.filter(status="pending_local", domain=application.domain).count() == 1
