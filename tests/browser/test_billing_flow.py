"""After CONAC's approval: 编办 收费 → 确认收费 → 登记汇款 → CONAC 认款 → daily jobs on the next
working day → 注册成功; then 域名查询 by 到期时间 → 续费 → 消费变更 → 收费 → 汇款 → 认款 → the
expiry extended. In headless Chromium, by the labels the manual (二（一）, 二（二）) names."""

import datetime
import io
import re
import subprocess
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing.models import C, Charge, ChargeKind, FeeMarking, FeeSchedule, LedgerEntry, OfficeAccount, Remittance
from conac.workdays import add_workdays
from registry.domains import services as domain_services
from registry.models import DomainStatus, User
from review import services as review
from tests import factories
from tests.browser.pages import SCREENSHOTS, field, log_in, log_out, say_yes

UNIT_NAME = "北京市海淀区财政局"
UNIT_USERNAME = "hd_fin"
LABEL = "海淀财政"
FULL_NAME = f"{LABEL}.政务"
OTHER_NAME = "海淀国库.政务"  # active too, but expiring outside the searched range
OFFICE_NAME = "北京市海淀区委编办"


def open_menu(page: Page, menu_name, item, heading):
    menu = page.get_by_role("navigation")
    if menu_name:
        menu.get_by_role("button", name=menu_name).click()
    menu.get_by_role("link", name=item, exact=True).click()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()


def open_fee_panel(page: Page):
    """用户管理——申报单位管理/缴费 → the unit → 详细信息 → 收费 (the manual's 第三步)."""
    open_menu(page, "用户管理", "申报单位管理/缴费", "用户管理——申报单位管理/缴费")
    page.get_by_role("link", name=UNIT_NAME, exact=True).click()
    panel = page.locator("#detail")
    expect(panel.get_by_role("heading", name="详细信息")).to_be_visible()
    panel.get_by_role("link", name="收费", exact=True).click()
    # The panel names the unit it charges (issue 12: never the wrong unit).
    expect(panel.get_by_role("heading", name=f"收费：{UNIT_NAME}", exact=True)).to_be_visible()
    return panel


def mark_fee(page: Page, panel, *, invoice_no, amount):
    field(panel, "发票号码").fill(invoice_no)
    field(panel, "收费金额").fill(amount)
    panel.get_by_role("button", name="确认收费").click()
    say_yes(page, UNIT_NAME)


def register_remittance(page: Page, *, amount, remitted_on, voucher_no, note):
    open_menu(page, "", "汇款管理", "汇款管理")
    field(page, "汇款金额").fill(amount)
    field(page, "汇款日期").fill(remitted_on.isoformat())
    field(page, "汇款凭证号").fill(voucher_no)
    field(page, "备注").fill(note)
    page.get_by_role("button", name="登记汇款").click()
    expect(page.get_by_role("alert").filter(has_text="已登记汇款")).to_contain_text(voucher_no)
    row = page.locator("#remittances tbody tr").filter(has_text=voucher_no)
    expect(row).to_contain_text(f"{amount} 元")
    expect(row).to_contain_text(remitted_on.isoformat())
    expect(row).to_contain_text(note)
    expect(row).to_contain_text("待认款")


def confirm_remittance(page: Page, *, voucher_no, effective_on):
    open_menu(page, "", "认款管理", "认款管理")
    row = page.locator("#pending-remittances tbody tr").filter(has_text=voucher_no)
    expect(row).to_contain_text(OFFICE_NAME)
    row.get_by_role("button", name="认款").click()
    say_yes(page, "将按收费先后消费")
    done = page.get_by_role("alert").filter(has_text="已认款")
    expect(done).to_contain_text(voucher_no)
    expect(done).to_contain_text("消费 1 笔")
    expect(done).to_contain_text(f"生效日期 {effective_on.isoformat()}")
    expect(page.locator("#pending-remittances tbody tr").filter(has_text=voucher_no)).to_have_count(0)


def run_daily_jobs(day):
    out = io.StringIO()
    call_command("daily_jobs", "--date", day.isoformat(), "--allow-future", stdout=out)
    return out.getvalue().strip()


def test_fee_marking_remittance_confirmation_activation_then_renewal(live_server, page: Page):
    base = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    today = timezone.localdate()
    effective_on = add_workdays(today, 1)

    # 1. A domain past both reviews: CONAC's approval created its registration charge.
    unit = factories.make_unit(username=UNIT_USERNAME, name=UNIT_NAME, region_code="110108")
    hd_staff = factories.make_staff("hd_staff", "110108")
    conac_staff = factories.make_staff("conac_staff", None, role=User.Role.CONAC)
    FeeSchedule.objects.create(suffix=".政务", price_per_year=Decimal("200.00"), valid_from=datetime.date(2020, 1, 1))
    domain = domain_services.submit_domain_application(
        unit, label=LABEL, suffix=".政务", years=2, actor=factories.unit_user(unit)
    )
    review.approve(domain, actor=hd_staff)
    review.approve(domain, actor=conac_staff)
    registration = Charge.objects.get(domain=domain)
    assert (registration.kind, registration.status, registration.years, registration.amount) == (
        ChargeKind.REGISTRATION,
        C.PENDING,
        2,
        Decimal("400.00"),
    )
    other_expiry = today + relativedelta(years=5)
    factories.make_domain(unit, "海淀国库", status=DomainStatus.ACTIVE, registered_on=today, expires_on=other_expiry)

    # 2. 编办 收费: the charge and its total show; a wrong 收费金额 is refused at the field.
    log_in(page, base, "hd_staff")
    panel = open_fee_panel(page)
    charge_row = panel.locator("#payable-charges tbody tr")
    expect(charge_row).to_have_count(1)
    expect(charge_row).to_contain_text(FULL_NAME)
    expect(charge_row).to_contain_text("注册")
    expect(charge_row).to_contain_text("2年")
    expect(charge_row).to_contain_text("200.00 元/年")
    expect(panel.locator("#amount-due")).to_have_text("400.00 元")
    expect(field(panel, "收费金额")).to_have_value("400.00")  # offered, for the staff to check
    field(panel, "发票号码").fill("FP2026001")
    page.screenshot(path=SCREENSHOTS / "fee-marking.png", full_page=True)

    mark_fee(page, panel, invoice_no="FP2026001", amount="300.00")
    amount_input = field(panel, "收费金额")
    expect(amount_input).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(panel.locator("#div_id_amount .invalid-feedback")).to_have_text(
        "收费金额（300.00 元）与应收金额（400.00 元）不符，请核对。"
    )
    expect(panel.locator(".is-invalid")).to_have_count(1)
    expect(field(panel, "发票号码")).to_have_value("FP2026001")
    registration.refresh_from_db()
    domain.refresh_from_db()
    assert (registration.status, domain.status) == (C.PENDING, DomainStatus.AWAITING_PAYMENT)
    assert not FeeMarking.objects.exists()

    amount_input.fill("400.00")
    panel.get_by_role("button", name="确认收费").click()
    say_yes(page, UNIT_NAME)
    done = panel.locator("#marking-done")
    expect(done).to_contain_text("已确认收费：400.00 元（发票号码 FP2026001）")
    expect(panel.locator("#no-charges")).to_be_visible()  # marked once: nothing payable left
    registration.refresh_from_db()
    domain.refresh_from_db()
    assert (registration.status, domain.status) == (C.MARKED, DomainStatus.FEE_MARKED)
    marking = FeeMarking.objects.get()
    assert (marking.invoice_no, marking.amount, marking.unit, marking.marked_by) == (
        "FP2026001",
        Decimal("400.00"),
        unit,
        hd_staff,
    )

    receipt = page.request.get(base + done.get_by_role("link", name="打印收费确认单").get_attribute("href"))
    assert receipt.status == 200
    assert receipt.headers["content-type"] == "application/pdf"
    pdf = receipt.body()
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    for expected in ("收费确认单", UNIT_NAME, "FP2026001", FULL_NAME, "400.00 元", "肆佰元整"):
        assert expected in text

    # 3. 汇款管理 → 登记汇款.
    remitted_on = today - datetime.timedelta(days=1)
    register_remittance(page, amount="400.00", remitted_on=remitted_on, voucher_no="HK2026-001", note="2026年第1批")
    first = Remittance.objects.get(voucher_no="HK2026-001")
    assert (first.amount, first.remitted_on, first.status, first.office) == (
        Decimal("400.00"),
        remitted_on,
        "pending",
        hd_staff.office,
    )
    log_out(page)

    # 4. CONAC 认款: the marked charge is consumed; the domain goes live the next working day.
    log_in(page, base, "conac_staff")
    confirm_remittance(page, voucher_no="HK2026-001", effective_on=effective_on)
    log_out(page)
    registration.refresh_from_db()
    domain.refresh_from_db()
    assert (registration.status, registration.effective_on, registration.remittance_id) == (
        C.CONSUMED,
        effective_on,
        first.pk,
    )
    assert (domain.status, domain.registered_on, domain.expires_on) == (DomainStatus.ACTIVATING, None, None)
    assert OfficeAccount.objects.get(office=hd_staff.office).balance == Decimal("0.00")

    # 5. The daily jobs on that day: 注册成功, 到期时间 two years on.
    assert run_daily_jobs(effective_on) == "域名生效 1，续费生效 0，过期 0，到期提醒 0"
    first_expiry = effective_on + relativedelta(years=2)
    domain.refresh_from_db()
    assert (domain.status, domain.registered_on, domain.expires_on) == (DomainStatus.ACTIVE, effective_on, first_expiry)

    log_in(page, base, UNIT_USERNAME)
    open_menu(page, "网上名称管理", "域名业务管理——我的域名", "网上名称管理——域名业务管理——我的域名")
    mine = page.locator("#my-domains tbody tr").filter(has_text=FULL_NAME)
    # 域名, 状态, 下一步, 操作, 注册日期, 到期时间
    expect(mine.locator("td").nth(1)).to_have_text("注册成功")
    expect(mine.locator("td").nth(4)).to_have_text(effective_on.isoformat())
    expect(mine.locator("td").nth(5)).to_have_text(first_expiry.isoformat())
    log_out(page)

    # 6. Renewal: 域名查询 by 到期时间 → tick → 续费 → 续费年限 → 提交续费申请.
    log_in(page, base, "hd_staff")
    open_menu(page, "网上名称管理", "域名查询", "网上名称管理——域名查询")
    field(page, "到期时间 (起)").fill((first_expiry - datetime.timedelta(days=30)).isoformat())
    field(page, "到期时间 (止)").fill((first_expiry + datetime.timedelta(days=30)).isoformat())
    page.get_by_role("button", name="查询", exact=True).click()
    results = page.locator("#domains tbody tr")
    expect(results).to_have_count(1)
    expect(results).to_contain_text(FULL_NAME)
    expect(results).not_to_contain_text(OTHER_NAME)
    expect(results.locator("td").nth(7)).to_have_text(first_expiry.isoformat())
    page.get_by_role("checkbox", name=f"选择 {FULL_NAME}").check()
    page.get_by_role("button", name="续费", exact=True).click()

    expect(page.get_by_role("heading", name="续费", exact=True)).to_be_visible()
    expect(page.locator("#renew-count")).to_contain_text("已勾选 1 个域名，其中 1 个")
    expect(page.locator("#renew-domains tbody tr")).to_contain_text(first_expiry.isoformat())
    field(page, "续费年限").select_option(label="1年")
    page.get_by_role("button", name="提交续费申请").click()

    # Lands on 待缴费域名 with the renewal charge; 消费变更 to 3 years.
    expect(page.get_by_role("heading", name="网上名称管理——待缴费域名")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="已提交续费申请")).to_contain_text("新建续费消费 1 笔")
    renewal = Charge.objects.get(domain=domain, kind=ChargeKind.RENEWAL)
    assert (renewal.status, renewal.years, renewal.amount) == (C.PENDING, 1, Decimal("200.00"))
    row = page.locator(f"#charge-{renewal.public_id}")
    expect(row).to_contain_text(FULL_NAME)
    expect(row).to_contain_text("续费")
    expect(row.locator("td").nth(5)).to_have_text("200.00 元")
    row.get_by_role("link", name="消费变更").click()
    field(row, "注册年限").select_option(label="3年")
    row.get_by_role("button", name="确定").click()
    expect(row.get_by_role("status")).to_have_text(f"“{FULL_NAME}”已变更为3年，金额600.00 元。")
    expect(row.locator("td").nth(3)).to_have_text("3年")
    expect(row.locator("td").nth(5)).to_have_text("600.00 元")
    renewal.refresh_from_db()
    assert (renewal.status, renewal.years, renewal.amount) == (C.PENDING, 3, Decimal("600.00"))

    # 收费 for the renewal, 汇款, 认款.
    panel = open_fee_panel(page)
    charge_row = panel.locator("#payable-charges tbody tr")
    expect(charge_row).to_have_count(1)
    expect(charge_row).to_contain_text("续费")
    expect(charge_row).to_contain_text("3年")
    expect(panel.locator("#amount-due")).to_have_text("600.00 元")
    mark_fee(page, panel, invoice_no="FP2026002", amount="600.00")
    expect(panel.locator("#marking-done")).to_contain_text("已确认收费：600.00 元（发票号码 FP2026002）")
    renewal.refresh_from_db()
    assert renewal.status == C.MARKED

    register_remittance(page, amount="600.00", remitted_on=today, voucher_no="HK2026-002", note="2026年第2批")
    log_out(page)

    log_in(page, base, "conac_staff")
    confirm_remittance(page, voucher_no="HK2026-002", effective_on=effective_on)
    renewal.refresh_from_db()
    domain.refresh_from_db()
    assert (renewal.status, renewal.effective_on) == (C.CONSUMED, effective_on)
    assert domain.expires_on == first_expiry  # extended on the effective day, not at 认款

    assert run_daily_jobs(effective_on) == "域名生效 0，续费生效 1，过期 0，到期提醒 0"
    renewal.refresh_from_db()
    domain.refresh_from_db()
    assert (renewal.status, renewal.previous_expiry) == (C.APPLIED, first_expiry)
    assert (domain.status, domain.registered_on, domain.expires_on) == (
        DomainStatus.ACTIVE,
        effective_on,
        first_expiry + relativedelta(years=3),
    )
    # Every yuan accounted for: two credits, two debits, nothing left over.
    assert [(e.kind, e.amount, e.balance_after) for e in LedgerEntry.objects.order_by("id")] == [
        ("credit", Decimal("400.00"), Decimal("400.00")),
        ("debit", Decimal("400.00"), Decimal("0.00")),
        ("credit", Decimal("600.00"), Decimal("600.00")),
        ("debit", Decimal("600.00"), Decimal("0.00")),
    ]

    # CONAC's 对账报表: the office's line adds up.
    open_menu(page, "", "对账报表", "对账报表")
    line = page.locator("#reconciliation tbody tr").filter(has_text=OFFICE_NAME)
    expect(line.locator("td")).to_have_text([OFFICE_NAME, *["1,000.00 元"] * 4, *["0.00 元"] * 5, "平衡"])
    page.screenshot(path=SCREENSHOTS / "reconciliation.png", full_page=True)
