"""退费 and 退回: money owed back when a paid-for domain is deleted.

- A 待退费 charge (domain deleted after 收费) is refunded by its office: 退费日期, 退费凭证号,
  退费金额 = the charge; it becomes 已退费, once, whoever clicks twice.
- A consumed charge whose years never began (a renewal not yet applied, or applied but its
  first day still ahead; a registration never live) is credited back to the office's balance
  (退回) when its domain is deleted, and the unit is owed it (待退费): 已认款 = 已消费 + 余额 holds.
- Both show in 对账报表 and its 导出Excel; the 退费 pages, and who may not use them.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from billing import jobs, reports, services
from billing.models import C, Charge, ChargeKind, LedgerEntry, OfficeAccount, Refund
from billing.services import BillingError
from conac.audit import history_of
from registry.domains import services as domain_services
from registry.models import DomainStatus, Region
from tests import factories
from tests.billing.test_charges import active_domain, approved_domain, at, mark_all, refreshed, registration_charge

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = datetime.date(2025, 10, 20)
REFUNDS = "/billing/refunds/"


def refund_url(charge):
    return f"/billing/charges/{charge.public_id}/refund/"


def owed_back(unit, office_user, conac_user, label="退费测试"):
    """A domain approved and its fee collected (确认收费), then deleted: its charge is 待退费."""
    domain = approved_domain(unit, label, office_user=office_user, conac_user=conac_user)
    mark_all(unit, office_user, invoice_no=f"FP-{label}", now=at(2025, 10, 10))
    domain_services.delete_domain(domain, reason="单位撤回", actor=office_user, now=at(2025, 10, 12))
    charge = registration_charge(domain)
    assert charge.status == C.REFUND_PENDING
    return charge


def refund(charge, office_user, voucher_no="TF-0001", **overrides):
    arguments = {"refunded_on": TODAY, "voucher_no": voucher_no, "amount": charge.amount, "today": TODAY}
    arguments.update(overrides)
    return services.record_refund(charge, actor=office_user, **arguments)


def pay(unit, office_user, conac_user, *, voucher_no, confirmed_at):
    """确认收费 of what the unit owes, an exactly matching remittance and CONAC's 认款."""
    total = sum(c.amount for c in services.payable_charges(unit, office_user.office))
    mark_all(unit, office_user, invoice_no=f"FP-{voucher_no}", now=confirmed_at - datetime.timedelta(hours=2))
    remittance = services.register_remittance(
        office_user.office, amount=total, remitted_on=confirmed_at.date(), voucher_no=voucher_no,
        actor=office_user, today=confirmed_at.date(),
    )  # fmt: skip
    return services.confirm_remittance(remittance, actor=conac_user, now=confirmed_at)


def renewed(domain, office_user, conac_user, *, years=1, confirmed_at, voucher_no):
    """A renewal of ``domain`` submitted, paid and 认款: 已认款, waiting for its effective day."""
    (charge,), _ = services.submit_renewals([domain.pk], years=years, actor=office_user, today=confirmed_at.date())
    pay(domain.unit, office_user, conac_user, voucher_no=voucher_no, confirmed_at=confirmed_at)
    return refreshed(charge)


def balance(office):
    return OfficeAccount.objects.get(office=office).balance


def ledger(office):
    return list(LedgerEntry.objects.filter(office=office).order_by("id").values_list("kind", "amount", "balance_after"))


def assert_books_balance(office):
    line = reports.reconciliation(office).lines[0]
    assert line.balanced, (line.confirmed_total, line.consumed_total, line.balance)
    spent = sum(c.amount for c in Charge.objects.filter(office=office, status__in=[C.CONSUMED, C.APPLIED]))
    assert line.consumed_total == spent
    return line


# --- 退费 ---------------------------------------------------------------------------------


def test_a_refund_makes_the_charge_refunded_with_its_record_and_audit(unit, office_user, conac_user):
    charge = owed_back(unit, office_user, conac_user)

    record = refund(charge, office_user, voucher_no=" TF-0001 ")

    charge = refreshed(charge)
    assert charge.status == C.REFUNDED and charge.get_status_display() == "已退费"
    assert (record.charge, record.amount, record.voucher_no, record.refunded_on) == (
        charge, charge.amount, "TF-0001", TODAY,
    )  # fmt: skip
    assert (record.office, record.unit, record.recorded_by) == (office_user.office, unit, office_user)
    entry = history_of(charge).get(action="退费")
    assert (entry.from_state, entry.to_state, entry.data["voucher_no"]) == ("待退费", "已退费", "TF-0001")
    # The refund is the office's money going back to the unit: the ledger with CONAC is untouched.
    assert not LedgerEntry.objects.exists()


def test_a_second_click_with_the_same_voucher_changes_nothing(unit, office_user, conac_user):
    charge = owed_back(unit, office_user, conac_user)
    first = refund(charge, office_user)

    again = refund(charge, office_user)

    assert again.pk == first.pk and Refund.objects.count() == 1
    assert history_of(charge).filter(action="退费").count() == 1


def test_a_refunded_charge_is_not_refunded_again_under_another_voucher(unit, office_user, conac_user):
    charge = owed_back(unit, office_user, conac_user)
    refund(charge, office_user)

    with pytest.raises(BillingError, match="不能重复退费"):
        refund(charge, office_user, voucher_no="TF-9999")
    assert Refund.objects.count() == 1


def test_a_voucher_number_is_used_once_per_office(unit, other_unit, office_user, conac_user, shanghai_unit):
    first = owed_back(unit, office_user, conac_user, label="退费甲")
    second = owed_back(other_unit, office_user, conac_user, label="退费乙")
    refund(first, office_user, voucher_no="TF-SAME")

    with pytest.raises(BillingError, match="退费凭证号“TF-SAME”已登记过"):
        refund(second, office_user, voucher_no="TF-SAME")
    assert refreshed(second).status == C.REFUND_PENDING

    # Another office keeps its own numbering.
    sh_staff = factories.make_staff("sh_refund", "310000")
    sh_conac = factories.make_staff("sh_refund_conac", None, role="conac")
    shanghai = owed_back(shanghai_unit, sh_staff, sh_conac, label="退费丙")
    refund(shanghai, sh_staff, voucher_no="TF-SAME")
    assert refreshed(shanghai).status == C.REFUNDED


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "199.99"}, "须与消费金额（200.00 元）一致"),
        ({"amount": "400.00"}, "须与消费金额（200.00 元）一致"),
        ({"voucher_no": "  "}, "请填写退费凭证号"),
        ({"refunded_on": TODAY + datetime.timedelta(days=1)}, "不能晚于今天"),
        ({"refunded_on": datetime.date(2025, 10, 9)}, "不能早于收费日期（2025-10-10）"),
    ],
)
def test_refund_input_is_checked(unit, office_user, conac_user, overrides, message):
    charge = owed_back(unit, office_user, conac_user)
    with pytest.raises(BillingError, match=re.escape(message)):
        refund(charge, office_user, **overrides)
    assert refreshed(charge).status == C.REFUND_PENDING and not Refund.objects.exists()


def test_only_the_collecting_office_refunds_and_only_what_is_owed_back(
    unit, office_user, other_office_user, province_office_user, conac_user
):
    charge = owed_back(unit, office_user, conac_user)
    for outsider in (other_office_user, province_office_user, conac_user):
        with pytest.raises(BillingError, match="不属于本编办"):
            refund(charge, outsider)
    unpaid = approved_domain(unit, "未缴费", office_user=office_user, conac_user=conac_user)
    with pytest.raises(BillingError, match=re.escape("只有待退费的消费可以退费（当前状态：待缴费）")):
        refund(registration_charge(unpaid), office_user)
    assert not Refund.objects.exists()


# --- 退回: consumed, and the paid years never began ---------------------------------------


def test_deleting_a_domain_whose_renewal_is_consumed_returns_it_to_the_balance(unit, office_user, conac_user):
    domain = active_domain(unit, "续费未生效", expires_on=datetime.date(2026, 3, 1))
    charge = renewed(domain, office_user, conac_user, years=2, confirmed_at=at(2025, 10, 10), voucher_no="HK-1")
    assert charge.status == C.CONSUMED and balance(office_user.office) == D("0.00")

    domain_services.delete_domain(domain, reason="单位撤销", actor=office_user, now=at(2025, 10, 10, 16))

    charge = refreshed(charge)
    assert charge.status == C.REFUND_PENDING  # the unit is owed its 400 元
    assert ledger(office_user.office) == [
        ("credit", D("400.00"), D("400.00")),
        ("debit", D("400.00"), D("0.00")),
        ("return", D("400.00"), D("400.00")),
    ]
    assert balance(office_user.office) == D("400.00")
    assert history_of(charge).filter(action="消费退回").exists()
    assert history_of(charge).filter(action="删除域名", from_state="已认款", to_state="待退费").exists()
    line = assert_books_balance(office_user.office)
    assert (line.confirmed_total, line.consumed_total, line.returned_total, line.refund_pending_total) == (
        D("400.00"), D("0.00"), D("400.00"), D("400.00"),
    )  # fmt: skip
    # The daily job never applies it, and the unit's refund closes it.
    assert jobs.apply_due_renewals(datetime.date(2025, 10, 13)) == 0
    refund(charge, office_user, refunded_on=datetime.date(2025, 10, 15), today=datetime.date(2025, 10, 15))
    line = assert_books_balance(office_user.office)
    assert (line.refund_pending_total, line.refunded_total, line.balance) == (D("0.00"), D("400.00"), D("400.00"))


def test_an_applied_renewal_whose_years_lie_ahead_is_returned(unit, office_user, conac_user):
    domain = active_domain(unit, "续费已生效", expires_on=datetime.date(2026, 3, 1))
    charge = renewed(domain, office_user, conac_user, confirmed_at=at(2025, 10, 10), voucher_no="HK-2")
    assert jobs.apply_due_renewals(datetime.date(2025, 10, 13)) == 1
    assert refreshed(charge).status == C.APPLIED and refreshed(domain).expires_on == datetime.date(2027, 3, 1)

    domain_services.delete_domain(domain, reason="单位撤销", actor=office_user, now=at(2026, 1, 5))

    assert refreshed(charge).status == C.REFUND_PENDING  # 2026-03-02 … 2027-03-01 never began
    assert balance(office_user.office) == D("200.00")
    assert_books_balance(office_user.office)


def test_a_renewal_whose_years_have_begun_stays_spent(unit, office_user, conac_user):
    domain = active_domain(unit, "续费已开始", expires_on=datetime.date(2025, 11, 1))
    charge = renewed(domain, office_user, conac_user, confirmed_at=at(2025, 10, 10), voucher_no="HK-3")
    jobs.apply_due_renewals(datetime.date(2025, 10, 13))

    domain_services.delete_domain(domain, reason="单位撤销", actor=office_user, now=at(2025, 11, 2))

    assert refreshed(charge).status == C.APPLIED
    assert not LedgerEntry.objects.filter(kind="return").exists()
    assert balance(office_user.office) == D("0.00")
    assert_books_balance(office_user.office)


def test_a_registration_consumed_but_never_live_is_returned_and_a_live_one_is_not(unit, office_user, conac_user):
    live = approved_domain(unit, "已生效删除", office_user=office_user, conac_user=conac_user)
    summary = pay(unit, office_user, conac_user, voucher_no="HK-4", confirmed_at=at(2025, 10, 10))
    assert jobs.activate_due_domains(summary["effective_on"]) == 1
    waiting = approved_domain(unit, "待生效删除", office_user=office_user, conac_user=conac_user)
    pay(unit, office_user, conac_user, voucher_no="HK-4b", confirmed_at=at(2025, 10, 14))
    assert refreshed(waiting).status == DomainStatus.ACTIVATING  # goes live tomorrow

    for domain in (waiting, live):
        domain_services.delete_domain(domain, reason="单位撤销", actor=office_user, now=at(2025, 10, 14, 15))

    assert registration_charge(waiting).status == C.REFUND_PENDING
    assert registration_charge(live).status == C.CONSUMED
    assert balance(office_user.office) == D("200.00")
    assert jobs.activate_due_domains(datetime.date(2025, 10, 15)) == 0
    assert_books_balance(office_user.office)


def test_a_return_goes_to_the_office_that_was_paid_after_the_unit_moved(unit, office_user, conac_user):
    from registry.organisations.services import UNIT_FIELDS, update_unit

    domain = active_domain(unit, "搬家续费", expires_on=datetime.date(2026, 3, 1))
    charge = renewed(domain, office_user, conac_user, confirmed_at=at(2025, 10, 10), voucher_no="HK-5")
    data = {f: getattr(unit, f) for f in UNIT_FIELDS}
    data.update(level="province", region=Region.objects.get(code="110000"))
    update_unit(unit, unit_data=data, actor=office_user)
    beijing_staff = factories.make_staff("bj_mover", "110000")

    domain_services.delete_domain(refreshed(domain), reason="单位撤销", actor=beijing_staff, now=at(2025, 10, 11))

    charge = refreshed(charge)
    assert charge.status == C.REFUND_PENDING and charge.office == office_user.office  # 海淀 collected it
    assert balance(office_user.office) == D("200.00")
    assert not OfficeAccount.objects.filter(office=beijing_staff.office).exists()
    assert_books_balance(office_user.office)


def test_the_database_returns_a_charge_once(unit, office_user, conac_user):
    from django.db import IntegrityError, transaction

    domain = active_domain(unit, "退回一次", expires_on=datetime.date(2026, 3, 1))
    charge = renewed(domain, office_user, conac_user, confirmed_at=at(2025, 10, 10), voucher_no="HK-6")
    domain_services.delete_domain(domain, reason="单位撤销", actor=office_user, now=at(2025, 10, 11))
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            office=office_user.office, kind="return", amount=charge.amount, balance_after=D("400.00"), charge=charge
        )


# --- 对账报表 and 导出Excel ------------------------------------------------------------------


def test_the_report_and_its_export_show_refunds_and_returns(client_for, unit, office_user, conac_user):
    refunded = owed_back(unit, office_user, conac_user, label="报表退费")
    refund(refunded, office_user)
    domain = active_domain(unit, "报表退回", expires_on=datetime.date(2026, 3, 1))
    renewed(domain, office_user, conac_user, years=2, confirmed_at=at(2025, 10, 10), voucher_no="HK-7")
    domain_services.delete_domain(domain, reason="单位撤销", actor=office_user, now=at(2025, 10, 11))

    line = assert_books_balance(office_user.office)
    assert (line.marked_total, line.confirmed_total, line.consumed_total, line.balance) == (
        D("600.00"), D("400.00"), D("0.00"), D("400.00"),
    )  # fmt: skip
    assert (line.refund_pending_total, line.refunded_total, line.returned_total) == (
        D("400.00"), D("200.00"), D("400.00"),
    )  # fmt: skip

    client = client_for(conac_user)
    page = client.get("/billing/reconciliation/").content.decode()
    assert "已退费" in page and "已退回" in page and "不平衡" not in page
    drill = client.get(f"/billing/reconciliation/{office_user.office.code}/").content.decode()
    assert "消费退回" in drill and "删除域名退回" in drill

    # 导出Excel writes the same report with the same writer (whether answered at once or by a task).
    workbook = load_workbook(reports.export_xlsx(reports.reconciliation()), read_only=True)
    rows = [list(row) for row in workbook["对账报表"].iter_rows(values_only=True)]
    header = rows[0]
    office_row = rows[1]
    assert office_row[0] == office_user.office.code
    for label, value in (("已退费", "200.00"), ("已退回", "400.00"), ("待退费", "400.00"), ("已消费", "0.00")):
        assert Decimal(str(office_row[header.index(label)])) == D(value), label
    assert office_row[-1] == "平衡" and rows[-1][-1] == "平衡"


# --- The pages -----------------------------------------------------------------------------


def test_the_refund_tab_lists_what_is_owed_back_with_a_refund_button(client_for, unit, office_user, conac_user):
    charge = owed_back(unit, office_user, conac_user)
    client = client_for(office_user)

    unpaid = client.get("/billing/unpaid/").content.decode()
    assert f'href="{REFUNDS}"' in unpaid and "待退费" in unpaid

    body = client.get(REFUNDS).content.decode()
    assert charge.domain.full_name in body and "200.00 元" in body and "FP-退费测试" in body
    assert f'href="{refund_url(charge)}"' in body and "退费</a>" in body
    assert "共 1 笔待退费，合计 200.00 元" in body


def test_the_units_fee_panel_lists_its_refunds_owed(client_for, unit, office_user, conac_user):
    charge = owed_back(unit, office_user, conac_user)
    body = client_for(office_user).get(f"/billing/units/{unit.public_id}/fees/", HTTP_HX_REQUEST="true")
    text = body.content.decode()
    assert "待退费" in text and refund_url(charge) in text and charge.domain.full_name in text


def test_recording_a_refund_on_its_page(client_for, unit, office_user, conac_user):
    charge = owed_back(unit, office_user, conac_user)
    client = client_for(office_user)
    form = client.get(refund_url(charge))
    text = form.content.decode()
    assert form.status_code == 200
    for label in ("退费日期", "退费凭证号", "退费金额", "确认退费", charge.domain.full_name, "200.00 元"):
        assert label in text
    today = timezone.localdate()

    response = client.post(
        refund_url(charge),
        {"refunded_on": today.isoformat(), "voucher_no": "TF-PAGE", "amount": "200.00", "confirmed": "1"},
    )

    assert response.status_code == 302 and response["Location"] == REFUNDS
    assert refreshed(charge).status == C.REFUNDED
    listing = client.get(REFUNDS).content.decode()
    assert "已退费" in listing and "TF-PAGE" in listing and "没有待退费的消费" in listing
    # A double click: the second post finds the refund recorded and changes nothing.
    again = client.post(
        refund_url(charge),
        {"refunded_on": today.isoformat(), "voucher_no": "TF-PAGE", "amount": "200.00", "confirmed": "1"},
    )
    assert again.status_code == 302 and Refund.objects.count() == 1
    assert "已于" in client.get(refund_url(charge)).content.decode()


def test_a_refund_from_the_unit_panel_returns_there(client_for, unit, office_user, conac_user):
    charge = owed_back(unit, office_user, conac_user)
    back = f"/billing/units/{unit.public_id}/fees/"
    response = client_for(office_user).post(
        refund_url(charge),
        {
            "refunded_on": timezone.localdate().isoformat(),
            "voucher_no": "TF-U",
            "amount": "200.00",
            "next": back,
            "confirmed": "1",
        },
    )
    assert response.status_code == 302 and response["Location"] == back


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"amount": "100.00"}, "amount", "须与消费金额"),
        ({"amount": "abc"}, "amount", "退费金额须为数字"),
        ({"voucher_no": ""}, "voucher_no", "请填写退费凭证号"),
        ({"refunded_on": "2025-13-45"}, "refunded_on", "请输入有效的日期"),
        ({"refunded_on": "2999-01-01"}, "refunded_on", "不能晚于今天"),
    ],
)
def test_refund_errors_are_shown_at_the_field(client_for, unit, office_user, conac_user, data, field, error):
    charge = owed_back(unit, office_user, conac_user)
    post = {
        "refunded_on": timezone.localdate().isoformat(),
        "voucher_no": "TF-ERR",
        "amount": "200.00",
        "confirmed": "1",
        **data,
    }
    response = client_for(office_user).post(refund_url(charge), post, follow=True)
    assert response.redirect_chain[0][0].startswith(f"{refund_url(charge)}?next=")  # PRG, the errors kept
    assert any(error in e for e in response.context["form"].errors[field]), response.context["form"].errors
    assert refreshed(charge).status == C.REFUND_PENDING


def test_a_charge_not_owed_back_shows_no_refund_form(client_for, unit, office_user, conac_user):
    domain = approved_domain(unit, "无需退费", office_user=office_user, conac_user=conac_user)
    charge = registration_charge(domain)
    client = client_for(office_user)
    body = client.get(refund_url(charge)).content.decode()
    assert "只有待退费的消费可以退费" in body and 'id="refund-form"' not in body
    response = client.post(
        refund_url(charge),
        {"refunded_on": timezone.localdate().isoformat(), "voucher_no": "X", "amount": "200.00", "confirmed": "1"},
        follow=True,
    )
    assert response.redirect_chain and "当前状态：待缴费" in response.content.decode()
    assert refreshed(charge).status == C.PENDING


@pytest.fixture
def refund_pages(unit, office_user, conac_user):
    charge = owed_back(unit, office_user, conac_user)
    return {"list": REFUNDS, "refund": refund_url(charge), "charge": charge}


@pytest.mark.parametrize("page", ["list", "refund"])
def test_anonymous_visitors_are_sent_to_log_in(client, refund_pages, page):
    for response in (client.get(refund_pages[page]), client.post(refund_pages[page])):
        assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("page", ["list", "refund"])
def test_units_and_conac_are_refused(client_for, unit_user, conac_user, refund_pages, page):
    for user in (unit_user, conac_user):
        client = client_for(user)
        assert client.get(refund_pages[page]).status_code == 403
        assert client.post(refund_pages[page], {"voucher_no": "X"}).status_code == 403


def test_another_office_and_the_office_above_cannot_see_or_refund(
    client_for, other_office_user, province_office_user, refund_pages
):
    charge = refund_pages["charge"]
    for outsider in (other_office_user, province_office_user):
        client = client_for(outsider)
        assert charge.domain.full_name not in client.get(REFUNDS).content.decode()
        assert client.get(refund_pages["refund"]).status_code == 404
        post = {"refunded_on": timezone.localdate().isoformat(), "voucher_no": "X", "amount": "200.00"}
        assert client.post(refund_pages["refund"], post).status_code == 404
    assert refreshed(charge).status == C.REFUND_PENDING


def test_refund_list_query_count_does_not_grow(
    client_for, unit, office_user, conac_user, django_assert_max_num_queries
):
    client = client_for(office_user)
    first = owed_back(unit, office_user, conac_user, label="计数甲")
    refund(first, office_user, voucher_no="TF-C1")
    owed_back(unit, office_user, conac_user, label="计数乙")
    with django_assert_max_num_queries(30) as few:
        client.get(REFUNDS)
    for n in range(6):
        charge = owed_back(unit, office_user, conac_user, label=f"计数{n}")
        if n % 2:
            refund(charge, office_user, voucher_no=f"TF-N{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(REFUNDS)
    assert len(response.context["page"].object_list) == 4 and len(response.context["refunds"]) == 4


def test_kinds_and_states_read_in_chinese():
    assert dict(C.choices)[C.REFUNDED] == "已退费"
    assert dict(LedgerEntry.Kind.choices)["return"] == "消费退回"
    assert ChargeKind.RENEWAL.label == "续费"
