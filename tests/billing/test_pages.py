"""The billing pages as their users see them: 待缴费域名 and 消费变更, 收费 and its 收费确认单,
汇款管理, 认款管理, 续费 — and who may not use each."""

import datetime
import subprocess
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from billing import services
from billing.capital import capital_yuan
from billing.models import C, Charge, ChargeKind, FeeMarking, FeeSchedule, LedgerEntry, Remittance
from conac.access import rule_of
from registry.domains import names
from registry.models import Domain, DomainStatus, User
from tests import factories

UNPAID = "/billing/unpaid/"
REMITTANCES = "/billing/remittances/"
CONFIRM_LIST = "/billing/remittances/confirm/"
RENEW = "/billing/renew/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def charge_for(unit, label, years=1):
    """A domain that passed both reviews (待缴费) with its registration charge."""
    domain = factories.make_domain(unit, label, status=DomainStatus.AWAITING_PAYMENT, years=years)
    return services.create_registration_charge(domain, actor=None)


def active_domain(unit, label, expires_on=datetime.date(2027, 6, 30), **fields):
    return factories.make_domain(
        unit,
        label,
        status=DomainStatus.ACTIVE,
        registered_on=datetime.date(2025, 6, 30),
        expires_on=expires_on,
        **fields,
    )


def fees_url(unit):
    return f"/billing/units/{unit.public_id}/fees/"


def change_url(charge):
    return f"/billing/charges/{charge.public_id}/change/"


def body(response):
    return response.content.decode()


def fee_post(charges, invoice_no="FP20250001", amount=None):
    total = sum((c.amount for c in charges), Decimal("0"))
    return {
        "charges": [str(c.public_id) for c in charges],
        "invoice_no": invoice_no,
        "amount": str(total if amount is None else amount),
        "confirmed": "1",  # the answer to “确认收费 …？” (asked in tests/billing/test_confirmations.py)
    }


def pdf_text(data):
    assert data.startswith(b"%PDF")
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


# --- Who may use each page --------------------------------------------------------------


def _urls(unit, charge, marking, remittance):
    return {
        "unpaid": (UNPAID, "get", "office"),
        "change": (change_url(charge), "get", "office"),
        "fees": (fees_url(unit), "get", "office"),
        "receipt": (f"/billing/receipts/{marking.public_id}/", "get", "staff"),
        "remittances": (REMITTANCES, "get", "office"),
        "confirm-list": (CONFIRM_LIST, "get", "conac"),
        "confirm": (f"/billing/remittances/{remittance.public_id}/confirm/", "post", "conac"),
        "renew": (RENEW, "post", "office"),
    }


@pytest.fixture
def billing_objects(unit, office_user):
    charge = charge_for(unit, "海淀访问测试")
    marked = charge_for(unit, "海淀已收费测试")
    marking = FeeMarking.objects.create(
        office=unit.office, unit=unit, invoice_no="X1", amount=marked.amount, marked_by=office_user
    )
    Charge.objects.filter(pk=marked.pk).update(status=C.MARKED, marking=marking)
    remittance = services.register_remittance(
        office_user.office,
        amount="100",
        remitted_on=datetime.date(2025, 1, 2),
        voucher_no="V-ACCESS",
        actor=office_user,
    )
    return _urls(unit, charge, marking, remittance)


def _call(client, url, method):
    return client.post(url) if method == "post" else client.get(url)


@pytest.mark.parametrize(
    "name", ["unpaid", "change", "fees", "receipt", "remittances", "confirm-list", "confirm", "renew"]
)
def test_anonymous_visitors_are_sent_to_the_login_page(client, billing_objects, name):
    url, method, _ = billing_objects[name]
    response = _call(client, url, method)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    "name", ["unpaid", "change", "fees", "receipt", "remittances", "confirm-list", "confirm", "renew"]
)
def test_units_are_refused(client_for, unit_user, billing_objects, name):
    url, method, _ = billing_objects[name]
    assert _call(client_for(unit_user), url, method).status_code == 403


@pytest.mark.parametrize("name", ["unpaid", "change", "fees", "remittances", "renew"])
def test_conac_is_refused_the_office_pages(client_for, conac_user, billing_objects, name):
    url, method, _ = billing_objects[name]
    assert _call(client_for(conac_user), url, method).status_code == 403


@pytest.mark.parametrize("name", ["confirm-list", "confirm"])
def test_offices_are_refused_the_conac_pages(client_for, office_user, billing_objects, name):
    url, method, _ = billing_objects[name]
    assert _call(client_for(office_user), url, method).status_code == 403
    assert Remittance.objects.filter(status="confirmed").count() == 0


@pytest.mark.parametrize("name", ["change", "fees", "receipt"])
def test_another_office_gets_404(client_for, other_office_user, billing_objects, name):
    url, method, _ = billing_objects[name]
    assert _call(client_for(other_office_user), url, method).status_code == 404


def test_the_office_above_sees_the_unit_but_cannot_collect_its_fees(client_for, province_office_user, unit):
    charge_for(unit, "海淀上级测试")
    client = client_for(province_office_user)
    assert client.get(fees_url(unit)).status_code == 404
    panel = body(client.get(f"/units/{unit.public_id}/", **HTMX))
    assert unit.name in panel and fees_url(unit) not in panel


def test_every_billing_view_declares_its_audience():
    from django.urls import get_resolver

    patterns = [p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "billing"][0]
    for pattern in patterns.url_patterns:
        assert rule_of(pattern.callback) is not None, pattern.name


# --- 网上名称管理——待缴费域名 and 消费变更 ------------------------------------------------------


def test_unpaid_charges_lists_the_offices_own_pending_charges(client_for, office_user, unit, shanghai_unit):
    mine = charge_for(unit, "海淀待缴费测试", years=3)
    charge_for(shanghai_unit, "上海待缴费测试")
    paid = charge_for(unit, "海淀已付测试")
    Charge.objects.filter(pk=paid.pk).update(status=C.CANCELLED)
    response = client_for(office_user).get(UNPAID)
    page = body(response)
    assert "网上名称管理——待缴费域名" in page
    assert "海淀待缴费测试.政务" in page and unit.name in page and "600.00 元" in page and "3年" in page
    assert "上海待缴费测试" not in page and "海淀已付测试" not in page
    assert [c.pk for c in response.context["page"]] == [mine.pk]
    assert f'hx-get="{change_url(mine)}"' in page and "消费变更" in page


def test_unpaid_charges_are_in_the_office_menu(client_for, office_user):
    page = body(client_for(office_user).get("/"))
    assert 'href="/billing/unpaid/"' in page and "待缴费域名" in page


def test_unpaid_list_query_count_does_not_grow_with_rows(client_for, office_user, unit, django_assert_max_num_queries):
    client = client_for(office_user)
    for i in range(3):
        charge_for(unit, f"海淀少量{i}")
    with django_assert_max_num_queries(15) as few:
        client.get(UNPAID)
    for i in range(22):
        charge_for(unit, f"海淀批量{i}")
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get(UNPAID)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(response.context["page"].object_list) == 20 and response.context["page"].paginator.count == 25


def test_change_years_in_place(client_for, office_user, unit):
    charge = charge_for(unit, "海淀变更测试", years=1)
    client = client_for(office_user)
    form = body(client.get(change_url(charge), **HTMX))
    assert f'id="charge-{charge.public_id}"' in form and "注册年限" in form and "asteriskField" in form
    assert "确定" in form and "<html" not in form
    row = body(client.post(change_url(charge), {"years": "4"}, **HTMX))
    assert "4年" in row and "800.00 元" in row and "消费变更" in row
    charge.refresh_from_db()
    assert (charge.years, charge.amount, charge.domain.years) == (4, Decimal("800.00"), 4)


def test_change_years_without_javascript_redirects_with_a_message(client_for, office_user, unit):
    charge = charge_for(unit, "海淀无脚本变更")
    client = client_for(office_user)
    assert "注册年限" in body(client.get(change_url(charge)))
    response = client.post(change_url(charge), {"years": "2"}, follow=True)
    assert "已变更为2年，金额400.00 元" in body(response)


@pytest.mark.parametrize(
    ("years", "error"), [("11", "注册年限须为1至10年。"), ("abc", "注册年限须为1至10年。"), ("", "请选择注册年限。")]
)
def test_change_years_bad_input_is_shown_at_the_field(client_for, office_user, unit, years, error):
    charge = charge_for(unit, "海淀错误年限", years=2)
    response = client_for(office_user).post(change_url(charge), {"years": years}, **HTMX)
    assert response.context["form"].errors["years"] == [error]
    assert error in body(response)
    charge.refresh_from_db()
    assert (charge.years, charge.amount) == (2, Decimal("400.00"))


def test_change_years_of_a_marked_charge_is_refused_at_the_field(client_for, office_user, unit):
    charge = charge_for(unit, "海淀已收费变更")
    services.mark_fees_paid(unit, charge_ids=[charge.pk], invoice_no="F1", amount=charge.amount, actor=office_user)
    response = client_for(office_user).post(change_url(charge), {"years": "5"}, **HTMX)
    assert "只有待缴费的消费可以变更年限（当前状态：已收费）。" in response.context["form"].errors["years"][0]
    charge.refresh_from_db()
    assert (charge.years, charge.status) == (1, C.MARKED)


def test_a_renewal_may_not_reach_beyond_ten_years(client_for, office_user, unit):
    domain = active_domain(unit, "海淀续费上限", expires_on=datetime.date.today() + datetime.timedelta(days=5 * 366))
    (charge,), _ = services.submit_renewals([domain.pk], years=1, actor=office_user)
    response = client_for(office_user).post(change_url(charge), {"years": "6"}, **HTMX)
    assert "超过自今日起10年的上限" in response.context["form"].errors["years"][0]
    charge.refresh_from_db()
    assert charge.years == 1


# --- 收费 in 详细信息 ------------------------------------------------------------------------


def test_unit_detail_has_the_fee_button_for_its_own_office(client_for, office_user, unit):
    panel = body(client_for(office_user).get(f"/units/{unit.public_id}/", **HTMX))
    assert f'hx-get="{fees_url(unit)}"' in panel and ">收费</a>" in panel


def test_a_unit_without_approved_domains_shows_a_blank_with_the_manuals_explanation(client_for, office_user, unit):
    factories.make_domain(unit, "海淀尚在审核")  # 待审核: nothing payable yet
    response = client_for(office_user).get(fees_url(unit), **HTMX)
    page = body(response)
    assert "域名须审核通过后才能显示缴费信息" in page
    assert "确认收费" not in page and "海淀尚在审核" not in page


def test_fees_show_the_payable_charges_and_the_total(client_for, office_user, unit, other_unit):
    a = charge_for(unit, "海淀收费甲", years=2)
    b = charge_for(unit, "海淀收费乙", years=1)
    charge_for(other_unit, "海淀另一单位收费")
    page = body(client_for(office_user).get(fees_url(unit), **HTMX))
    assert "海淀收费甲.政务" in page and "海淀收费乙.政务" in page and "海淀另一单位收费" not in page
    assert "应收金额" in page and "600.00 元" in page
    assert "发票号码" in page and "收费金额" in page and "确认收费" in page
    assert str(a.public_id) in page and str(b.public_id) in page


def test_confirm_fees_marks_the_charges_and_offers_the_receipt(client_for, office_user, unit):
    charges = [charge_for(unit, "海淀确认收费甲", years=2), charge_for(unit, "海淀确认收费乙")]
    response = client_for(office_user).post(fees_url(unit), fee_post(charges, invoice_no="FP-001"), **HTMX)
    marking = FeeMarking.objects.get()
    page = body(response)
    assert "已确认收费：600.00 元（发票号码 FP-001）" in page
    assert f"/billing/receipts/{marking.public_id}/" in page and "打印收费确认单" in page
    assert "域名须审核通过后才能显示缴费信息" in page  # nothing payable any more
    assert set(Charge.objects.values_list("status", flat=True)) == {C.MARKED}
    assert set(Domain.objects.values_list("status", flat=True)) == {DomainStatus.FEE_MARKED}


def test_a_second_submit_is_refused_and_nothing_is_marked_twice(client_for, office_user, unit):
    charges = [charge_for(unit, "海淀重复收费")]
    client = client_for(office_user)
    client.post(fees_url(unit), fee_post(charges), **HTMX)
    response = client.post(fees_url(unit), fee_post(charges), **HTMX)
    assert "该单位没有待缴费的消费（已收费或尚未审核通过）。" in body(response)
    assert FeeMarking.objects.count() == 1
    assert Charge.objects.get().marking_id == FeeMarking.objects.get().pk


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("500.00", "收费金额（500.00 元）与应收金额（600.00 元）不符，请核对。"),
        ("abc", "收费金额须为数字，例如 600.00。"),
        ("600.001", "收费金额最多保留两位小数（精确到分）。"),
        ("0", "收费金额须大于0。"),
        ("", "请填写收费金额。"),
    ],
)
def test_a_wrong_amount_is_shown_at_the_amount(client_for, office_user, unit, amount, error):
    charges = [charge_for(unit, "海淀金额不符", years=3)]
    response = client_for(office_user).post(fees_url(unit), fee_post(charges, amount=amount), **HTMX)
    assert response.context["form"].errors["amount"] == [error]
    assert error in body(response)
    assert FeeMarking.objects.count() == 0 and Charge.objects.get().status == C.PENDING


def test_a_missing_invoice_number_is_shown_at_its_field(client_for, office_user, unit):
    charges = [charge_for(unit, "海淀缺发票")]
    response = client_for(office_user).post(fees_url(unit), fee_post(charges, invoice_no="  "), **HTMX)
    assert response.context["form"].errors["invoice_no"] == ["请填写发票号码。"]
    assert FeeMarking.objects.count() == 0


def test_charges_that_changed_since_the_page_was_shown_are_not_marked(client_for, office_user, unit):
    seen = [charge_for(unit, "海淀已看到")]
    charge_for(unit, "海淀后出现")  # someone else's review passed meanwhile
    response = client_for(office_user).post(fees_url(unit), fee_post(seen), **HTMX)
    assert "待缴费信息已发生变化" in body(response)
    assert FeeMarking.objects.count() == 0
    # The page now shows both, with both ids: the staff check again.
    assert "海淀后出现.政务" in body(response) and "400.00 元" in body(response)


def test_fees_without_javascript_render_a_whole_page(client_for, office_user, unit):
    charge_for(unit, "海淀整页收费")
    page = body(client_for(office_user).get(fees_url(unit)))
    assert "<html" in page and "确认收费" in page and "返回申报单位管理/缴费" in page


def test_the_receipt_is_a_pdf_with_the_chinese_text_and_total(client_for, office_user, unit, conac_user):
    charges = [charge_for(unit, "海淀收据甲", years=2), charge_for(unit, "海淀收据乙")]
    client_for(office_user).post(fees_url(unit), fee_post(charges, invoice_no="FP-PDF-9"), **HTMX)
    marking = FeeMarking.objects.get()
    response = client_for(office_user).get(f"/billing/receipts/{marking.public_id}/")
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in [
        "收费确认单",
        unit.office.name,
        unit.name,
        unit.credit_code,
        "FP-PDF-9",
        "海淀收据甲.政务",
        "海淀收据乙.政务",
        "注册",
        "600.00",
        "陆佰元整",
        "收费人",
    ]:
        assert expected in text, expected
    assert client_for(conac_user).get(f"/billing/receipts/{marking.public_id}/").status_code == 200


@pytest.mark.parametrize(
    ("amount", "capital"),
    [
        ("600", "陆佰元整"),
        ("0", "零元整"),
        ("0.50", "伍角整"),
        ("0.05", "伍分"),
        ("10", "壹拾元整"),
        ("10.05", "壹拾元零伍分"),
        ("12.30", "壹拾贰元叁角整"),
        ("1005", "壹仟零伍元整"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("10000", "壹万元整"),
        ("100100", "壹拾万零壹佰元整"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("100000001", "壹亿零壹元整"),
        ("100010000", "壹亿零壹万元整"),
        ("1000100000", "壹拾亿零壹拾万元整"),
        ("9999999999.99", "玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_capital_numerals(amount, capital):
    assert capital_yuan(Decimal(amount)) == capital


def test_capital_numerals_refuse_a_negative_amount():
    with pytest.raises(ValueError):
        capital_yuan(Decimal("-1"))


# --- 汇款管理 -----------------------------------------------------------------------------


def remittance_post(**overrides):
    data = {"amount": "1200.00", "remitted_on": "2025-09-29", "voucher_no": "HK-0001", "note": "九月汇款"}
    data.update(overrides)
    return data


def test_register_a_remittance(client_for, office_user):
    client = client_for(office_user)
    response = client.post(REMITTANCES, remittance_post(), follow=True)
    page = body(response)
    assert "已登记汇款 1,200.00 元（汇款凭证号 HK-0001），等待CONAC认款。" in page
    assert "HK-0001" in page and "九月汇款" in page and "待认款" in page and "2025-09-29" in page
    remittance = Remittance.objects.get()
    assert (remittance.office, remittance.amount, remittance.status) == (
        office_user.office,
        Decimal("1200.00"),
        "pending",
    )


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("amount", "0", "汇款金额须大于0。"),
        ("amount", "-5", "汇款金额须大于0。"),
        ("amount", "一千", "汇款金额须为数字，例如 600.00。"),
        ("amount", "10.555", "汇款金额最多保留两位小数（精确到分）。"),
        ("amount", "", "请填写汇款金额。"),
        ("remitted_on", "2999-01-01", "汇款日期不能晚于今天。"),
        ("remitted_on", "2025-02-30", "2025年2月没有30日，请输入有效的日期。"),
        ("voucher_no", "   ", "请填写汇款凭证号。"),
    ],
)
def test_remittance_bad_input_is_shown_at_the_field(client_for, office_user, field, value, error):
    response = client_for(office_user).post(REMITTANCES, remittance_post(**{field: value}), follow=True)
    assert response.redirect_chain[0][0].startswith(f"{REMITTANCES}?form=")  # PRG: never the POST's address
    assert response.context["form"].errors[field] == [error]
    assert Remittance.objects.count() == 0


def test_a_voucher_number_is_registered_once_per_office(client_for, office_user, other_office_user):
    client_for(office_user).post(REMITTANCES, remittance_post(voucher_no="HK-SAME"))
    response = client_for(office_user).post(REMITTANCES, remittance_post(voucher_no="HK-SAME", amount="5"), follow=True)
    assert response.context["form"].errors["voucher_no"] == ["汇款凭证号“HK-SAME”已登记过，请勿重复登记。"]
    assert Remittance.objects.count() == 1
    # Another office may use the same number for its own remittance.
    client_for(other_office_user).post(REMITTANCES, remittance_post(voucher_no="HK-SAME"))
    assert Remittance.objects.count() == 2


def test_an_office_sees_only_its_own_remittances(client_for, office_user, other_office_user):
    client_for(other_office_user).post(REMITTANCES, remittance_post(voucher_no="SH-ONLY"))
    page = body(client_for(office_user).get(REMITTANCES))
    assert "SH-ONLY" not in page and "暂无汇款记录" in page and "登记汇款" in page


def test_remittance_list_query_count_does_not_grow(client_for, office_user, django_assert_max_num_queries):
    client = client_for(office_user)
    for i in range(3):
        services.register_remittance(
            office_user.office, amount="1", remitted_on=datetime.date(2025, 1, 1), voucher_no=f"F{i}", actor=office_user
        )
    with django_assert_max_num_queries(20) as few:
        client.get(REMITTANCES)
    for i in range(22):
        services.register_remittance(
            office_user.office, amount="1", remitted_on=datetime.date(2025, 1, 1), voucher_no=f"M{i}", actor=office_user
        )
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get(REMITTANCES)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert response.context["page"].paginator.count == 25


# --- 认款管理 -----------------------------------------------------------------------------


def _marked(unit, office_user, label, years=1):
    charge = charge_for(unit, label, years=years)
    services.mark_fees_paid(
        unit, charge_ids=[charge.pk], invoice_no=f"F-{label}", amount=charge.amount, actor=office_user
    )
    return charge


def test_conac_sees_pending_remittances_of_every_office(client_for, conac_user, office_user, other_office_user, unit):
    _marked(unit, office_user, "海淀待认款", years=3)
    for user, voucher in [(office_user, "HD-1"), (other_office_user, "SH-1")]:
        services.register_remittance(
            user.office, amount="800", remitted_on=datetime.date(2025, 9, 1), voucher_no=voucher, note="备注" + voucher,
            actor=user,
        )  # fmt: skip
    response = client_for(conac_user).get(CONFIRM_LIST)
    page = body(response)
    assert "认款管理" in page and "待认款（2）" in page
    assert "HD-1" in page and "SH-1" in page and "备注HD-1" in page
    assert office_user.office.name in page and other_office_user.office.name in page
    rows = {r.voucher_no: r for r in response.context["rows"]}
    assert rows["HD-1"].unconsumed_total == Decimal("600.00") and rows["SH-1"].unconsumed_total == 0


def test_confirming_reports_what_was_consumed_and_refuses_a_second_time(client_for, conac_user, office_user, unit):
    _marked(unit, office_user, "海淀认款甲", years=2)  # 400
    _marked(unit, office_user, "海淀认款乙", years=3)  # 600: not covered
    remittance = services.register_remittance(
        office_user.office, amount="500", remitted_on=datetime.date(2025, 9, 1), voucher_no="HD-500", actor=office_user
    )
    client = client_for(conac_user)
    url = f"/billing/remittances/{remittance.public_id}/confirm/"
    page = body(client.post(url, {"confirmed": "1"}, follow=True))
    assert "已认款：北京市海淀区委编办 汇款 500.00 元（汇款凭证号 HD-500）。消费 1 笔，共 400.00 元，生效日期" in page
    assert "尚有已收费未消费 1 笔，共 600.00 元；余额 100.00 元。" in page
    again = body(client.post(url, {"confirmed": "1"}, follow=True))
    assert "不能重复认款" in again
    assert (
        LedgerEntry.objects.filter(kind="credit").count() == 1 and LedgerEntry.objects.filter(kind="debit").count() == 1
    )
    confirmed = body(client.get(CONFIRM_LIST, {"tab": "confirmed"}))
    assert "HD-500" in confirmed and "已认款" in confirmed and conac_user.username in confirmed


def test_confirm_is_a_post(client_for, conac_user, office_user):
    remittance = services.register_remittance(
        office_user.office, amount="5", remitted_on=datetime.date(2025, 9, 1), voucher_no="GET", actor=office_user
    )
    assert client_for(conac_user).get(f"/billing/remittances/{remittance.public_id}/confirm/").status_code == 405
    remittance.refresh_from_db()
    assert remittance.status == "pending"


def test_confirm_list_query_count_does_not_grow(client_for, conac_user, django_assert_max_num_queries):
    client = client_for(conac_user)
    offices = [factories.make_staff(f"s{code}", code) for code in ["110108", "310000", "110000"]]

    def remit(n, prefix):
        for i in range(n):
            user = offices[i % 3]
            services.register_remittance(
                user.office, amount="1", remitted_on=datetime.date(2025, 1, 1), voucher_no=f"{prefix}{i}", actor=user
            )

    remit(3, "F")
    with django_assert_max_num_queries(20) as few:
        client.get(CONFIRM_LIST)
    remit(22, "M")
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get(CONFIRM_LIST)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert response.context["page"].paginator.count == 25


# --- 续费 from 域名查询 -------------------------------------------------------------------------


def test_domain_search_offers_renewal_to_offices_only(client_for, office_user, conac_user):
    assert 'formaction="/billing/renew/"' in body(client_for(office_user).get("/domains/search/"))
    assert 'formaction="/billing/renew/"' not in body(client_for(conac_user).get("/domains/search/"))


def test_renewal_lists_the_ticked_renewable_domains(client_for, office_user, unit, shanghai_unit):
    active = active_domain(unit, "海淀可续费", expires_on=datetime.date(2026, 12, 31))
    pending = factories.make_domain(unit, "海淀待审核续费")
    foreign = active_domain(shanghai_unit, "上海不可续费")
    ids = [str(d.public_id) for d in (active, pending, foreign)]
    response = client_for(office_user).post(RENEW, {"ids": ids, "next": "/domains/search/"})
    page = body(response)
    assert "海淀可续费.政务" in page and "2026-12-31" in page
    assert "海淀待审核续费" not in page and "上海不可续费" not in page
    assert "已勾选 3 个域名，其中 <strong>1</strong> 个" in page and "另有 2 个" in page
    assert "续费年限" in page and "提交续费申请" in page
    assert Charge.objects.count() == 0


def test_submitting_renewals_creates_charges_and_reports_the_skipped(client_for, office_user, unit, shanghai_unit):
    active = active_domain(unit, "海淀续费甲", expires_on=datetime.date(2026, 12, 31))
    expired = factories.make_domain(
        unit, "海淀续费乙", status=DomainStatus.EXPIRED, registered_on=datetime.date(2024, 1, 1),
        expires_on=datetime.date(2025, 1, 1),
    )  # fmt: skip
    pending = factories.make_domain(unit, "海淀续费丙")
    foreign = active_domain(shanghai_unit, "上海续费丁")
    ids = ",".join(str(d.public_id) for d in (active, expired, pending, foreign))
    response = client_for(office_user).post(RENEW, {"ids": ids, "years": "2"}, follow=True)
    assert response.redirect_chain[-1][0] == UNPAID
    page = body(response)
    assert "新建续费消费 2 笔（待缴费）" in page
    assert "海淀续费丙.政务：状态为“待审核”，不能续费" in page
    assert "其他1个域名：不存在或不属于本编办管理" in page
    renewals = Charge.objects.filter(kind=ChargeKind.RENEWAL)
    assert {c.domain_id for c in renewals} == {active.pk, expired.pk}
    assert {(c.years, c.amount) for c in renewals} == {(2, Decimal("400.00"))}
    assert "海淀续费甲.政务" in page and "续费" in page  # now in 待缴费域名


def test_renewal_years_are_checked_at_the_field(client_for, office_user, unit):
    active = active_domain(unit, "海淀续费年限")
    response = client_for(office_user).post(RENEW, {"ids": str(active.public_id), "years": "11"}, follow=True)
    assert response.context["form"].errors["years"] == ["续费年限须为1至10年。"]
    assert "海淀续费年限.政务" in body(response)
    assert Charge.objects.count() == 0


def test_a_domain_with_an_open_renewal_is_flagged_and_not_renewed_twice(client_for, office_user, unit):
    active = active_domain(unit, "海淀重复续费")
    services.submit_renewals([active.pk], years=1, actor=office_user)
    client = client_for(office_user)
    assert "已有未完成的续费申请" in body(client.post(RENEW, {"ids": [str(active.public_id)]}))
    page = body(client.post(RENEW, {"ids": str(active.public_id), "years": "1"}, follow=True))
    assert "没有新建续费消费" in page and "海淀重复续费.政务：已有未完成的续费申请" in page
    assert Charge.objects.count() == 1


def test_nothing_ticked_goes_back_with_a_message(client_for, office_user):
    response = client_for(office_user).post(RENEW, {"next": "/domains/search/?status=active"}, follow=True)
    assert response.redirect_chain[-1][0] == "/domains/search/?status=active"
    assert "请先勾选要续费的域名。" in body(response)


def test_renewing_hundreds_lists_the_first_200_and_counts_the_rest(client_for, office_user, unit):
    rows, now = [], timezone.now()
    for i in range(230):
        checked = names.validate_label(f"海淀批量续费{i}", suffix=".政务")
        rows.append(
            Domain(
                unit=unit,
                office_id=unit.office_id,
                label=checked.label,
                alabel=checked.alabel,
                suffix=".政务",
                years=1,
                status=DomainStatus.ACTIVE,
                registered_on=datetime.date(2025, 1, 1),
                expires_on=datetime.date(2026, 1, 1),
                submitted_at=now,
            )  # fmt: skip
        )
    Domain.objects.bulk_create(rows)
    ids = [str(u) for u in Domain.objects.values_list("public_id", flat=True)]
    client = client_for(office_user)
    response = client.post(RENEW, {"ids": ids})
    page = body(response)
    assert len(response.context["rows"]) == 200 and response.context["count"] == 230
    assert "仅列出前 200 个，共 230 个域名。" in page
    assert page.count('name="ids"') == 1  # carried on as one field, not 230
    carried = response.context["form"]["ids"].value()
    page = body(client.post(RENEW, {"ids": carried, "years": "1"}, follow=True))
    assert "新建续费消费 230 笔（待缴费）" in page
    assert Charge.objects.filter(kind=ChargeKind.RENEWAL, status=C.PENDING).count() == 230


# --- Admin ----------------------------------------------------------------------------------


def test_conac_keeps_the_fee_schedule_and_the_money_is_read_only(client_for, db):
    admin = User.objects.create_superuser("root", "root@example.cn", "Admin12345", role=User.Role.ADMIN)
    client = client_for(admin)
    response = client.post(
        "/admin/billing/feeschedule/add/",
        {"suffix": ".政务", "price_per_year": "300.00", "valid_from": "2030-01-01", "valid_to": "2029-01-01"},
    )
    assert "失效日期不能早于生效日期。" in body(response)
    response = client.post(
        "/admin/billing/feeschedule/add/", {"suffix": ".政务", "price_per_year": "300.00", "valid_from": "2030-01-01"}
    )
    assert response.status_code == 302
    assert services.price_for(".政务", datetime.date(2030, 6, 1)) == Decimal("300.00")
    assert FeeSchedule.objects.count() == 1
    for model in ["charge", "feemarking", "remittance", "officeaccount", "ledgerentry"]:
        assert client.get(f"/admin/billing/{model}/").status_code == 200
        assert client.get(f"/admin/billing/{model}/add/").status_code == 403


def test_conac_staff_with_the_permissions_can_open_the_fee_schedule(client_for, conac_user):
    conac_user.is_staff = True
    conac_user.save()
    conac_user.user_permissions.add(*Permission.objects.filter(codename__in=["view_feeschedule", "change_feeschedule"]))
    assert client_for(User.objects.get(pk=conac_user.pk)).get("/admin/billing/feeschedule/").status_code == 200


def test_a_renewal_that_would_still_end_in_the_past_is_refused_with_the_reason(client_for, office_user, unit):
    today = datetime.date.today()
    old = factories.make_domain(
        unit, "海淀久已过期", status=DomainStatus.EXPIRED, registered_on=datetime.date(2022, 6, 30),
        expires_on=datetime.date(2023, 6, 30),
    )  # fmt: skip
    client = client_for(office_user)
    page = body(client.post(RENEW, {"ids": [str(old.public_id)], "next": "/domains/search/"}))
    # Each choice of years with the 到期时间 it gives; the ones still in the past are marked.
    assert "续费后到期时间" in page
    for years in range(1, 11):
        end = datetime.date(2023 + years, 6, 30)
        shown = f'<span class="text-nowrap">{end:%Y-%m-%d}</span>'  # a date never breaks across lines
        assert f"{years}年：{shown}{'（仍已过期）' if end < today else ''}<" in page

    response = client.post(RENEW, {"ids": str(old.public_id), "years": "1"}, follow=True)
    assert "续费1年后到期时间为2024-06-30，仍早于今天，请选择更长的续费年限" in body(response)
    assert not Charge.objects.filter(kind=ChargeKind.RENEWAL).exists()

    years = next(n for n in range(1, 11) if datetime.date(2023 + n, 6, 30) >= today)
    client.post(RENEW, {"ids": str(old.public_id), "years": str(years)})
    assert Charge.objects.get(kind=ChargeKind.RENEWAL).years == years
