"""对账报表: the numbers add up after a lived-in scenario, per office and in total; who sees
which offices; the drill-down to the lines; 导出Excel; the demo data."""

import datetime
import io
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from billing import jobs, reports, services
from billing.models import C, Charge, LedgerEntry, OfficeAccount, Remittance
from registry.domains import services as domain_services
from registry.models import Domain, DomainStatus
from tests import factories

REPORT = "/billing/reconciliation/"
EXPORT = "/billing/reconciliation/export/"
DAY = datetime.date(2025, 9, 1)


def d(value):
    return Decimal(value)


def charge_for(unit, label, years=1):
    domain = factories.make_domain(unit, label, status=DomainStatus.AWAITING_PAYMENT, years=years)
    return services.create_registration_charge(domain, actor=None)


def mark(unit, staff, invoice_no):
    charges = list(services.payable_charges(unit, staff.office))
    return services.mark_fees_paid(
        unit,
        charge_ids=[c.pk for c in charges],
        invoice_no=invoice_no,
        amount=sum(c.amount for c in charges),
        actor=staff,
    )


def remit(staff, amount, voucher_no):
    return services.register_remittance(
        staff.office, amount=amount, remitted_on=DAY, voucher_no=voucher_no, actor=staff
    )


@pytest.fixture
def scenario(unit, other_unit, shanghai_unit, office_user, other_office_user, conac_user):
    """海淀区 and 上海市 after marking, remitting, partial and full 认款, a deletion after 收费 and a renewal."""
    # 海淀区: A+B marked together, C then D marked, D deleted (待退费), E left 待缴费.
    charge_for(unit, "对账甲", years=2)  # 400
    charge_for(unit, "对账乙", years=3)  # 600
    mark(unit, office_user, "HD-1")
    charge_for(other_unit, "对账丙")  # 200
    mark(other_unit, office_user, "HD-2")
    deleted = charge_for(other_unit, "对账丁")  # 200
    mark(other_unit, office_user, "HD-3")
    domain_services.delete_domain(deleted.domain, reason="单位撤回", actor=office_user)
    first = services.confirm_remittance(remit(office_user, "700", "HD-R1"), actor=conac_user)  # 甲 only: 乙 waits
    second = services.confirm_remittance(remit(office_user, "900", "HD-R2"), actor=conac_user)  # 乙 and 丙
    remit(office_user, "50", "HD-R3")  # 待认款
    charge_for(other_unit, "对账戊")  # 200
    mark(other_unit, office_user, "HD-4")  # 已收费, not consumed
    charge_for(unit, "对账己")  # 待缴费: not in the report

    # 上海市: a registration and a renewal marked together; 100 covers neither, 700 both.
    charge_for(shanghai_unit, "对账庚")  # 200
    renewed = factories.make_domain(
        shanghai_unit, "对账辛", status=DomainStatus.ACTIVE, registered_on=datetime.date(2024, 10, 1),
        expires_on=datetime.date(2026, 10, 1),
    )  # fmt: skip
    services.submit_renewals([renewed.pk], years=2, actor=other_office_user)  # 400
    mark(shanghai_unit, other_office_user, "SH-1")
    services.confirm_remittance(remit(other_office_user, "100", "SH-R1"), actor=conac_user)
    third = services.confirm_remittance(remit(other_office_user, "700", "SH-R2"), actor=conac_user)
    jobs.apply_due_renewals(third["effective_on"])  # the renewal is 续费成功: still counted as consumed
    return {"first": first, "second": second, "third": third, "renewed": renewed}


HAIDIAN = {
    "marked_total": d("1600.00"),
    "remitted_total": d("1650.00"),
    "confirmed_total": d("1600.00"),
    "consumed_total": d("1200.00"),
    "balance": d("400.00"),
    "unconsumed_total": d("200.00"),
    "refund_pending_total": d("200.00"),
}
SHANGHAI = {
    "marked_total": d("600.00"),
    "remitted_total": d("800.00"),
    "confirmed_total": d("800.00"),
    "consumed_total": d("600.00"),
    "balance": d("200.00"),
    "unconsumed_total": d("0.00"),
    "refund_pending_total": d("0.00"),
}


def figures(line):
    return {name: getattr(line, name) for name in HAIDIAN}


def test_the_scenario_did_what_it_says(scenario):
    assert scenario["first"]["consumed_count"] == 1 and scenario["first"]["balance"] == d("300.00")
    assert scenario["second"]["consumed_count"] == 2 and scenario["second"]["balance"] == d("400.00")
    assert scenario["third"]["consumed_count"] == 2
    assert Charge.objects.get(domain=scenario["renewed"], kind="renewal").status == C.APPLIED
    assert Charge.objects.filter(status=C.REFUND_PENDING).count() == 1


def test_report_numbers_add_up_per_office_and_in_total(scenario, office_user, other_office_user):
    report = reports.reconciliation()
    lines = {line.office.code: line for line in report.lines}
    assert set(lines) == {"110108", "310000"}
    assert figures(lines["110108"]) == HAIDIAN
    assert figures(lines["310000"]) == SHANGHAI
    assert figures(report.total) == {name: HAIDIAN[name] + SHANGHAI[name] for name in HAIDIAN}
    for line in [*report.lines, report.total]:
        assert line.confirmed_total == line.consumed_total + line.balance
        assert line.credited_total == line.confirmed_total
        assert line.balanced
    assert report.balanced
    # The balance is the account's, and the ledger's last line says the same.
    for office in (office_user.office, other_office_user.office):
        last = LedgerEntry.objects.filter(office=office).order_by("-id").first()
        assert last.balance_after == OfficeAccount.objects.get(office=office).balance == lines[office.code].balance


def test_a_broken_ledger_shows_as_unbalanced(scenario, office_user):
    # Only a bypass of the services could do this; the report must not hide it.
    OfficeAccount.objects.filter(office=office_user.office).update(balance=d("450.00"))
    line = reports.reconciliation(office_user.office).lines[0]
    assert not line.balanced and line.difference == d("-50.00")


def test_report_costs_the_same_queries_for_any_number_of_offices(
    scenario, conac_user, office_user, django_assert_num_queries
):
    with django_assert_num_queries(6):  # the money tables' stamp, then the report
        assert len(reports.reconciliation().lines) == 2
    with django_assert_num_queries(1):  # nothing moved: the same report, from the cache
        assert len(reports.reconciliation().lines) == 2
    province = factories.make_staff("bj_extra", "110000")
    bj_unit = factories.make_unit(username="bj_unit", name="北京对账单位", region_code="110000", level="province")
    charge_for(bj_unit, "对账北京")
    mark(bj_unit, province, "BJ-1")
    remit(province, "10", "BJ-R1")
    with django_assert_num_queries(6):  # money moved: computed again
        assert len(reports.reconciliation().lines) == 3
    with django_assert_num_queries(5):  # one office: its row is known
        reports.reconciliation(office_user.office)


def test_an_office_with_no_money_yet_sees_a_zero_line(office_user):
    line = reports.reconciliation(office_user.office).lines[0]
    assert line.office == office_user.office and line.balanced
    assert all(value == 0 for _, value in line.figures())


# --- The pages -------------------------------------------------------------------------------


def test_conac_sees_every_office_and_the_totals(scenario, client_for, conac_user):
    response = client_for(conac_user).get(REPORT)
    page = response.content.decode()
    assert "对账报表" in page and "北京市海淀区委编办" in page and "上海市委编办" in page
    assert "合计" in page and "2,200.00 元" in page and "2,400.00 元" in page and "不平衡" not in page
    assert "/billing/reconciliation/110108/" in page and "/billing/reconciliation/310000/" in page
    assert "导出Excel" in page
    for label in ["已收费总额", "汇款总额", "已认款", "已消费", "余额", "已收费未消费", "待退费"]:
        assert f">{label}</th>" in page


def test_an_office_sees_only_its_own_line(scenario, client_for, office_user):
    page = client_for(office_user).get(REPORT).content.decode()
    assert "北京市海淀区委编办" in page and "1,650.00 元" in page and "平衡" in page
    assert "上海市委编办" not in page and "合计" not in page and "800.00" not in page


def test_report_pages_are_in_both_menus(client_for, office_user, conac_user):
    for user in (office_user, conac_user):
        page = client_for(user).get("/").content.decode()
        assert 'href="/billing/reconciliation/"' in page and "对账报表" in page
    assert 'href="/billing/remittances/"' in client_for(office_user).get("/").content.decode()
    assert 'href="/billing/remittances/confirm/"' in client_for(conac_user).get("/").content.decode()


@pytest.mark.parametrize("url", [REPORT, EXPORT, "/billing/reconciliation/110108/"])
def test_units_are_refused_and_anonymous_visitors_log_in(client, client_for, unit_user, url):
    assert client_for(unit_user).get(url).status_code == 403
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_drill_down_of_another_office_is_404(client_for, office_user, province_office_user, conac_user):
    assert client_for(office_user).get("/billing/reconciliation/310000/").status_code == 404
    # Not even the office above sees a lower office's books here: each office reconciles its own.
    assert client_for(province_office_user).get("/billing/reconciliation/110108/").status_code == 404
    assert client_for(conac_user).get("/billing/reconciliation/999999/").status_code == 404
    assert client_for(conac_user).get("/billing/reconciliation/310000/").status_code == 200


def test_drill_down_lists_the_ledger_the_remittances_and_the_charges(scenario, client_for, office_user, conac_user):
    client = client_for(office_user)
    ledger = client.get("/billing/reconciliation/110108/")
    page = ledger.content.decode()
    assert "账目明细" in page and "认款入账" in page and "消费扣款" in page and "汇款凭证号 HD-R1" in page
    entries = list(ledger.context["page"])
    assert len(entries) == 5  # two credits, three debits
    assert entries[0].balance_after == d("400.00")  # newest first
    assert "对账甲.政务" in page

    remittances = client.get("/billing/reconciliation/110108/", {"tab": "remittances"}).content.decode()
    assert "HD-R1" in remittances and "HD-R3" in remittances and "待认款" in remittances

    charges = client.get("/billing/reconciliation/110108/", {"tab": "charges"})
    by_status = {row["label"]: (row["count"], row["total"]) for row in charges.context["by_status"]}
    assert by_status == {
        "待缴费": (1, d("200.00")),
        "已收费": (1, d("200.00")),
        "已认款": (3, d("1200.00")),
        "待退费": (1, d("200.00")),
    }
    refund = client.get("/billing/reconciliation/110108/", {"tab": "charges", "status": "refund_pending"})
    assert [c.domain.label for c in refund.context["page"]] == ["对账丁"]
    assert client_for(conac_user).get("/billing/reconciliation/110108/").status_code == 200


def test_drill_down_query_count_does_not_grow(client_for, office_user, conac_user, unit, django_assert_max_num_queries):
    client = client_for(office_user)

    def add(n, prefix):
        for i in range(n):
            charge_for(unit, f"{prefix}{i}")
            mark(unit, office_user, f"{prefix}-F{i}")
            services.confirm_remittance(remit(office_user, "200", f"{prefix}-R{i}"), actor=conac_user)

    add(2, "少量")
    counts = {}
    for tab in ["ledger", "remittances", "charges"]:
        with django_assert_max_num_queries(25) as few:
            client.get("/billing/reconciliation/110108/", {"tab": tab})
        counts[tab] = len(few.captured_queries)
    add(11, "批量")  # 26 ledger lines, 13 remittances and charges: more than a page of lines
    for tab in ["ledger", "remittances", "charges"]:
        with django_assert_max_num_queries(counts[tab]) as many:
            client.get("/billing/reconciliation/110108/", {"tab": tab})
        assert len(many.captured_queries) == counts[tab], tab


def test_report_page_query_count_does_not_grow_with_offices(
    scenario, client_for, conac_user, django_assert_max_num_queries
):
    client = client_for(conac_user)
    with django_assert_max_num_queries(20) as few:
        client.get(REPORT)
    for code in ["110000", "120000", "130000"]:
        staff = factories.make_staff(f"s{code}", code)
        remit(staff, "10", f"R{code}")
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get(REPORT)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(response.context["page"].object_list) == 5


def _sheet(response):
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(row) for row in workbook["对账报表"].iter_rows(values_only=True)]


def test_export_has_the_report_with_its_totals(scenario, client_for, conac_user):
    response = client_for(conac_user).get(EXPORT)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _sheet(response)
    assert rows[0][:3] == ["编办编码", "编办", "已收费总额"] and rows[0][-1] == "已认款 = 已消费 + 余额"
    assert rows[1][:2] == ["110108", "北京市海淀区委编办"]
    assert [Decimal(str(v)) for v in rows[1][2:9]] == list(HAIDIAN.values())
    assert rows[2][:2] == ["310000", "上海市委编办"]
    assert rows[-1][1] == "合计" and Decimal(str(rows[-1][4])) == d("2400.00") and rows[-1][-1] == "平衡"


def test_an_office_exports_only_its_own_line(scenario, client_for, other_office_user):
    rows = _sheet(client_for(other_office_user).get(EXPORT))
    assert [row[1] for row in rows[1:]] == ["上海市委编办", "合计"]


def test_a_province_export_holds_that_province_and_its_own_totals(scenario, client_for, conac_user):
    """首页's per-province bar opens 对账报表 for one province; its 导出Excel holds the same lines."""
    page = client_for(conac_user).get(REPORT, {"province": "31"})
    assert f'{EXPORT}?province=31"' in page.content.decode()
    rows = _sheet(client_for(conac_user).get(EXPORT, {"province": "31"}))
    assert [row[1] for row in rows[1:]] == ["上海市委编办", "合计"]
    shanghai = [line for line in page.context["report"].lines if line.office.code == "310000"][0]
    assert Decimal(str(rows[-1][2])) == shanghai.marked_total == page.context["report"].total.marked_total


def test_a_province_export_as_a_job_keeps_the_province(scenario, client_for, conac_user, monkeypatch):
    from billing import views as billing_views

    monkeypatch.setattr(billing_views, "REPORT_LINES_PER_PAGE", 0)  # too long for one page: an export job
    response = client_for(conac_user).get(EXPORT, {"province": "11"})
    assert response.status_code == 302
    from conac.models import ExportJob

    job = ExportJob.objects.get()
    assert job.parameters["province"] == "11" and job.parameters["back"].endswith("?province=11")
    table = billing_views.reconciliation_export_table(conac_user, job.parameters)
    assert [row[1] for row in table.rows] == ["北京市海淀区委编办", "合计"]


def test_an_office_cannot_widen_its_export_with_a_province(scenario, client_for, other_office_user):
    rows = _sheet(client_for(other_office_user).get(EXPORT, {"province": "11"}))
    assert [row[1] for row in rows[1:]] == ["上海市委编办", "合计"]


# --- Demo data -----------------------------------------------------------------------------------


def test_demo_has_money_in_every_state_and_it_balances(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert int(re.search(r"收费演示数据：新建 (\d+) 条", out.getvalue()).group(1)) > 0
    statuses = set(Charge.objects.values_list("status", flat=True))
    assert {C.PENDING, C.MARKED, C.CONSUMED, C.CANCELLED, C.REFUND_PENDING} <= statuses
    assert Charge.objects.filter(kind="renewal", status=C.PENDING).exists()
    domain_states = set(Domain.objects.values_list("status", flat=True))
    assert {DomainStatus.ACTIVE, DomainStatus.ACTIVATING, DomainStatus.FEE_MARKED} <= domain_states
    assert set(Remittance.objects.values_list("status", flat=True)) == {"pending", "confirmed"}
    report = reports.reconciliation()
    assert report.balanced and report.total.refund_pending_total > 0 and report.total.balance > 0

    counts = (Charge.objects.count(), LedgerEntry.objects.count())
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "收费演示数据：新建 0 条" in again.getvalue()
    assert counts == (Charge.objects.count(), LedgerEntry.objects.count())
