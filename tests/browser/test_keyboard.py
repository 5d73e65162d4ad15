"""The keyboard alone: 用户管理——申报单位管理/缴费 → a unit → 收费 → 确认收费, and a batch 审核通过 in
待审核域名. After each step the focus is on its result (the panel's heading, the answer), and the
panel's live region says it; each irreversible step is a dialog the keyboard answers."""

from playwright.sync_api import Page, expect

from billing import services as billing_services
from billing.models import FeeMarking
from registry.models import DomainStatus
from tests import factories
from tests.browser.pages import log_in

UNIT_NAME = "北京市海淀区键盘测试局"


def focused(page: Page):
    """What has the focus: its tag, its text, and its accessible label."""
    return page.evaluate(
        """() => { const e = document.activeElement;
                   return {tag: e.tagName, text: (e.textContent || "").replace(/\\s+/g, " ").trim(),
                           label: e.getAttribute("aria-label") || (e.labels && e.labels[0] ?
                                  e.labels[0].textContent.replace(/\\s+/g, " ").trim() : ""),
                           id: e.id, name: e.name || ""}; }"""
    )


def tab_to(page: Page, matches, *, limit=80, back=False):
    """Press Tab (or Shift+Tab) until the focused element matches; fail after ``limit`` presses."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if matches(focused(page)):
            return
    raise AssertionError(f"never reached by the keyboard; last focus: {focused(page)}")


def test_the_fee_panel_by_keyboard(live_server, page: Page):
    office = factories.make_staff("kb_office", "110108")
    unit = factories.make_unit(username="kb_unit", name=UNIT_NAME, region_code="110108")
    factories.make_unit(username="kb_other", name="北京市海淀区键盘其他局", region_code="110108")
    domain = factories.make_domain(unit, "海淀键盘", status=DomainStatus.AWAITING_PAYMENT)
    billing_services.create_registration_charge(domain, actor=None)

    log_in(page, live_server.url, office.username)
    page.goto(f"{live_server.url}/units/")

    # Pick the unit: its link, then Enter. The panel opens, its heading (the unit's name) has the focus.
    tab_to(page, lambda f: f["tag"] == "A" and f["text"] == UNIT_NAME)
    page.keyboard.press("Enter")
    heading = page.locator("#unit-detail-heading")
    expect(heading).to_have_text(f"详细信息：{UNIT_NAME}")
    expect(heading).to_be_focused()
    expect(page.locator("#unit-detail-code")).to_contain_text(unit.credit_code)
    expect(page.locator("#detail-live")).to_contain_text(UNIT_NAME)
    chosen = page.locator("#unit-table tr[aria-current=true]")
    expect(chosen).to_have_count(1)
    expect(chosen).to_contain_text(UNIT_NAME)

    # 收费: the panel names the unit again; the focus is on its heading.
    tab_to(page, lambda f: f["tag"] == "A" and f["text"] == "收费")
    page.keyboard.press("Enter")
    fee_heading = page.locator("#unit-charges-heading")
    expect(fee_heading).to_have_text(f"收费：{UNIT_NAME}")
    expect(fee_heading).to_be_focused()
    expect(page.locator("#detail-live")).to_contain_text("收费")

    tab_to(page, lambda f: f["name"] == "invoice_no")
    page.keyboard.type("FP-KB-1")
    tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "确认收费")
    page.keyboard.press("Enter")

    # The question names the unit, its credit code, the amount and the invoice; 取消 has the focus.
    dialog = page.locator("dialog#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"向{UNIT_NAME}（统一社会信用代码 {unit.credit_code}）确认收费 200.00 元")
    expect(dialog).to_contain_text("发票号码 FP-KB-1")
    expect(dialog.get_by_role("button", name="取消")).to_be_focused()
    page.keyboard.press("Escape")  # 取消: nothing sent, the focus back on 确认收费
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="确认收费")).to_be_focused()
    assert not FeeMarking.objects.exists()

    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="确定")).to_be_focused()
    page.keyboard.press("Enter")

    result = page.locator("#marking-done")
    expect(result).to_contain_text("已确认收费")
    expect(result).to_contain_text(UNIT_NAME)
    expect(result).to_be_focused()
    expect(page.locator("#detail-live")).to_contain_text("已确认收费")
    assert FeeMarking.objects.get().invoice_no == "FP-KB-1"


def test_batch_review_by_keyboard(live_server, page: Page):
    office = factories.make_staff("kb_reviewer", "110108")
    unit = factories.make_unit(username="kb_applicant", name="北京市海淀区键盘申报局", region_code="110108")
    domains = [factories.make_domain(unit, "海淀键盘一"), factories.make_domain(unit, "海淀键盘二")]

    log_in(page, live_server.url, office.username)
    page.goto(f"{live_server.url}/domains/review/office/")

    # Nothing ticked: 审核通过 says so at once, and the focus is on the message.
    tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "审核通过")
    page.keyboard.press("Enter")
    refusal = page.locator("[data-confirm-alert]")
    expect(refusal).to_have_text("请先勾选要审核的域名。")
    expect(refusal).to_be_focused()

    # 全选 with the space bar, then 审核通过 → “确认审核通过 2 个域名？” → 确定.
    tab_to(page, lambda f: f["label"] == "全选")
    page.keyboard.press("Space")
    tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "审核通过")
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#confirm-dialog")
    expect(dialog).to_contain_text("确认审核通过 2 个域名？")
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="确定")).to_be_focused()
    page.keyboard.press("Enter")

    result = page.get_by_role("alert").filter(has_text="已审核通过 2 个域名")
    expect(result).to_be_visible()
    expect(result).to_be_focused()
    for domain in domains:
        domain.refresh_from_db()
        assert domain.status == DomainStatus.PENDING_CONAC


def test_deleting_domains_asks_with_the_reason_by_keyboard(live_server, page: Page):
    office = factories.make_staff("kb_deleter", "110108")
    unit = factories.make_unit(username="kb_owner", name="北京市海淀区键盘删除局", region_code="110108")
    domain = factories.make_domain(unit, "海淀键盘删除")

    log_in(page, live_server.url, office.username)
    page.goto(f"{live_server.url}/domains/search/")

    # Nothing ticked: said at once, like 续费, and no reason box opens.
    tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "删除域名")
    page.keyboard.press("Enter")
    refusal = page.locator("[data-confirm-alert]")
    expect(refusal).to_have_text("请先勾选要删除的域名。")
    expect(refusal).to_be_focused()
    expect(page.locator("dialog#delete-dialog")).to_be_hidden()

    tab_to(page, lambda f: f["label"] == f"选择 {domain.full_name}")
    page.keyboard.press("Space")
    tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "删除域名", back=True)
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#delete-dialog")
    expect(dialog).to_contain_text("确认删除 1 个域名？")
    expect(dialog.get_by_label("删除原因")).to_be_focused()
    page.keyboard.type("单位已撤销")
    tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "确定")
    page.keyboard.press("Enter")

    result = page.get_by_role("alert").filter(has_text="已删除 1 个域名")
    expect(result).to_be_focused()
    domain.refresh_from_db()
    assert domain.status == DomainStatus.DELETED and domain.delete_reason == "单位已撤销"
