"""登记汇款 and 认款: the ledger credit, the consumption of 已收费 charges oldest marking first,
the next working day by China's calendar, and the database constraints behind it all."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing import services
from billing.models import C, Charge, LedgerEntry, OfficeAccount, Remittance, RemittanceStatus
from billing.services import BillingError
from conac.audit import history_of
from conac.models import Notice, WorkdayException
from registry.models import DomainStatus
from tests import factories
from tests.billing.test_charges import approved_domain, at, mark_all, refreshed, registration_charge

pytestmark = pytest.mark.django_db


def remit(office_user, amount, voucher_no, *, on=datetime.date(2025, 9, 1)):
    return services.register_remittance(
        office_user.office, amount=amount, remitted_on=on, voucher_no=voucher_no, actor=office_user, today=on
    )


def balance_of(office):
    account = OfficeAccount.objects.filter(office=office).first()
    return account.balance if account else Decimal("0.00")


def ledger(office):
    return list(LedgerEntry.objects.filter(office=office).order_by("id").values_list("kind", "amount", "balance_after"))


def _marked_domain(unit, label, years, office_user, conac_user, *, now):
    domain = approved_domain(unit, label, years=years, office_user=office_user, conac_user=conac_user)
    mark_all(unit, office_user, invoice_no=f"FP-{label}", now=now)
    return domain


# --- 登记汇款 ---------------------------------------------------------------------------


def test_register_remittance_waits_for_confirmation(office_user):
    remittance = services.register_remittance(
        office_user.office, amount="1200", remitted_on=datetime.date(2025, 9, 29), voucher_no=" HK-001 ",
        note="九月汇款", actor=office_user, today=datetime.date(2025, 9, 30),
    )  # fmt: skip
    remittance.refresh_from_db()
    assert (remittance.status, remittance.amount, remittance.voucher_no) == (
        RemittanceStatus.PENDING,
        Decimal("1200.00"),
        "HK-001",
    )
    assert remittance.get_status_display() == "待认款"
    assert not LedgerEntry.objects.exists() and balance_of(office_user.office) == Decimal("0.00")
    assert history_of(remittance).filter(action="登记汇款").exists()


@pytest.mark.parametrize(
    ("amount", "remitted_on", "voucher_no", "message"),
    [
        ("0", datetime.date(2025, 9, 29), "HK1", "须大于0"),
        ("-50", datetime.date(2025, 9, 29), "HK1", "须大于0"),
        ("100", datetime.date(2025, 10, 1), "HK1", "不能晚于今天"),
        ("100", datetime.date(2025, 9, 29), "  ", "请填写汇款凭证号"),
        ("100000000000", datetime.date(2025, 9, 29), "HK1", "超出范围"),
    ],
)
def test_bad_remittances_are_refused(office_user, amount, remitted_on, voucher_no, message):
    with pytest.raises(BillingError, match=message):
        services.register_remittance(
            office_user.office, amount=amount, remitted_on=remitted_on, voucher_no=voucher_no,
            actor=office_user, today=datetime.date(2025, 9, 30),
        )  # fmt: skip
    assert not Remittance.objects.exists()


def test_voucher_number_is_unique_per_office_but_two_offices_may_share_one(office_user, other_office_user, conac_user):
    remit(office_user, "100", "HK-SAME")
    with pytest.raises(BillingError, match="已登记过"):
        remit(office_user, "300", "HK-SAME")
    remit(other_office_user, "300", "HK-SAME")
    assert Remittance.objects.filter(voucher_no="HK-SAME").count() == 2
    # Not only the code: the database refuses a duplicate written any other way.
    with pytest.raises(IntegrityError), transaction.atomic():
        Remittance.objects.create(
            office=office_user.office, amount=Decimal("1.00"), remitted_on=datetime.date(2025, 9, 1),
            voucher_no="HK-SAME", registered_by=office_user,
        )  # fmt: skip


def test_only_an_office_registers_its_own_remittances(office_user, other_office_user, conac_user):
    for outsider in (other_office_user, conac_user):
        with pytest.raises(BillingError, match="不属于本编办"):
            services.register_remittance(
                office_user.office, amount="100", remitted_on=datetime.date(2025, 9, 1), voucher_no="HK1",
                actor=outsider, today=datetime.date(2025, 9, 1),
            )  # fmt: skip
    assert not Remittance.objects.exists()


# --- 认款 ------------------------------------------------------------------------------


def test_confirming_credits_the_ledger_and_consumes_marked_charges_oldest_marking_first(
    unit, other_unit, office_user, conac_user
):
    office = office_user.office
    # Marked in this order (by time): 200, 400, 200. The first 认款 of 700 covers 200 + 400;
    # the last 200 does not fit the 100 left, stays 已收费 and waits for the next 认款.
    oldest = _marked_domain(other_unit, "最早收费", 1, office_user, conac_user, now=at(2025, 9, 1))
    middle = _marked_domain(unit, "其次收费", 2, office_user, conac_user, now=at(2025, 9, 2))
    newest = _marked_domain(other_unit, "最后收费", 1, office_user, conac_user, now=at(2025, 9, 3))

    summary = services.confirm_remittance(remit(office_user, "700.00", "HK-A"), actor=conac_user, now=at(2025, 9, 4))

    assert summary["consumed_count"] == 2 and summary["consumed_total"] == Decimal("600.00")
    assert (summary["unpaid_count"], summary["unpaid_total"]) == (1, Decimal("200.00"))
    assert summary["balance"] == balance_of(office) == Decimal("100.00")
    assert registration_charge(oldest).status == registration_charge(middle).status == C.CONSUMED
    assert registration_charge(newest).status == C.MARKED
    assert refreshed(newest).status == DomainStatus.FEE_MARKED
    for domain in (oldest, middle):
        assert refreshed(domain).status == DomainStatus.ACTIVATING
        charge = registration_charge(domain)
        assert charge.effective_on == datetime.date(2025, 9, 5)  # Friday after a Thursday 认款
        assert charge.remittance.voucher_no == "HK-A"
    assert ledger(office) == [
        ("credit", Decimal("700.00"), Decimal("700.00")),
        ("debit", Decimal("200.00"), Decimal("500.00")),
        ("debit", Decimal("400.00"), Decimal("100.00")),
    ]

    second = remit(office_user, "100.00", "HK-B", on=datetime.date(2025, 9, 8))
    summary = services.confirm_remittance(second, actor=conac_user, now=at(2025, 9, 8))

    assert summary["consumed_count"] == 1 and summary["balance"] == Decimal("0.00")
    assert registration_charge(newest).status == C.CONSUMED
    assert registration_charge(newest).effective_on == datetime.date(2025, 9, 9)
    assert ledger(office)[3:] == [
        ("credit", Decimal("100.00"), Decimal("200.00")),
        ("debit", Decimal("200.00"), Decimal("0.00")),
    ]
    assert refreshed(second).status == RemittanceStatus.CONFIRMED and second.confirmed_by == conac_user


def test_a_remittance_is_confirmed_once(unit, office_user, conac_user):
    _marked_domain(unit, "重复认款", 1, office_user, conac_user, now=at(2025, 9, 1))
    remittance = remit(office_user, "500.00", "HK-ONCE")
    services.confirm_remittance(remittance, actor=conac_user, now=at(2025, 9, 2))
    before = ledger(office_user.office)

    with pytest.raises(BillingError, match="不能重复认款"):
        services.confirm_remittance(remittance, actor=conac_user, now=at(2025, 9, 3))

    assert ledger(office_user.office) == before
    assert balance_of(office_user.office) == Decimal("300.00")
    assert LedgerEntry.objects.filter(remittance=remittance).count() == 1


def test_only_conac_confirms(unit, office_user, conac_user):
    remittance = remit(office_user, "500.00", "HK-WHO")
    with pytest.raises(BillingError, match="只有CONAC"):
        services.confirm_remittance(remittance, actor=office_user)
    assert refreshed(remittance).status == RemittanceStatus.PENDING and not LedgerEntry.objects.exists()


def test_confirming_spends_only_the_offices_own_charges(
    unit, shanghai_unit, office_user, other_office_user, conac_user
):
    _marked_domain(shanghai_unit, "上海已收", 1, other_office_user, conac_user, now=at(2025, 9, 1))
    _marked_domain(unit, "海淀已收", 1, office_user, conac_user, now=at(2025, 9, 1))

    summary = services.confirm_remittance(remit(office_user, "1000", "HK-HD"), actor=conac_user, now=at(2025, 9, 2))

    assert summary["consumed_count"] == 1
    assert Charge.objects.get(office=other_office_user.office).status == C.MARKED
    assert balance_of(other_office_user.office) == Decimal("0.00")
    assert balance_of(office_user.office) == Decimal("800.00")


def test_the_office_is_told_what_was_consumed_and_what_remains(unit, office_user, conac_user):
    office_user.email = "haidian@example.cn"
    office_user.save()
    _marked_domain(unit, "通知认款", 3, office_user, conac_user, now=at(2025, 9, 1))
    _marked_domain(unit, "通知未付", 1, office_user, conac_user, now=at(2025, 9, 2))
    remittance = remit(office_user, "650.00", "HK-NOTE")
    services.confirm_remittance(remittance, actor=conac_user, now=at(2025, 9, 30))

    notice = Notice.objects.get(template="remittance_confirmed")
    assert notice.recipient == "haidian@example.cn"
    assert "HK-NOTE" in notice.subject
    assert "本次认款消费：1 笔，共 600.00 元，将于 2025-10-09 生效" in notice.body
    assert "尚未消费（已收费待汇款）：1 笔，共 200.00 元" in notice.body
    assert "当前余额：50.00 元" in notice.body

    # A remittance that consumes nothing names no day on which nothing takes effect.
    services.confirm_remittance(remit(office_user, "100.00", "HK-NONE"), actor=conac_user, now=at(2025, 10, 9))
    notice = Notice.objects.get(template="remittance_confirmed", subject__contains="HK-NONE")
    assert "本次认款消费：0 笔，共 0.00 元。" in notice.body and "生效" not in notice.body
    assert "当前余额：150.00 元" in notice.body


# --- the next working day ------------------------------------------------------------


@pytest.mark.parametrize(
    ("confirmed_on", "effective_on"),
    [
        (datetime.date(2025, 9, 30), datetime.date(2025, 10, 9)),  # eve of National Day: after the holiday
        (datetime.date(2025, 10, 3), datetime.date(2025, 10, 9)),  # during the holiday
        (datetime.date(2025, 9, 19), datetime.date(2025, 9, 22)),  # a Friday: Monday
        (datetime.date(2025, 9, 27), datetime.date(2025, 9, 28)),  # a Saturday: the make-up Sunday
        (datetime.date(2025, 10, 10), datetime.date(2025, 10, 11)),  # a Friday: the make-up Saturday
        (datetime.date(2031, 1, 3), datetime.date(2031, 1, 6)),  # a year the calendar does not know: Mon–Fri
        (datetime.date(2031, 1, 1), datetime.date(2031, 1, 2)),
    ],
)
def test_consumed_domains_take_effect_the_next_working_day(unit, office_user, conac_user, confirmed_on, effective_on):
    domain = _marked_domain(unit, "工作日", 1, office_user, conac_user, now=at(2025, 9, 1))
    remittance = remit(office_user, "200.00", "HK-WD", on=confirmed_on)

    summary = services.confirm_remittance(remittance, actor=conac_user, now=at(*confirmed_on.timetuple()[:3], 23))

    assert summary["effective_on"] == effective_on
    assert registration_charge(domain).effective_on == effective_on
    assert refreshed(domain).status == DomainStatus.ACTIVATING


def test_the_administrators_calendar_exception_wins(unit, office_user, conac_user):
    # 2031 is not in the package; the administrator records a holiday on Monday 6 January.
    WorkdayException.objects.create(date=datetime.date(2031, 1, 6), is_workday=False, note="测试放假")
    domain = _marked_domain(unit, "调休", 1, office_user, conac_user, now=at(2025, 9, 1))
    summary = services.confirm_remittance(
        remit(office_user, "200", "HK-EX", on=datetime.date(2031, 1, 3)), actor=conac_user, now=at(2031, 1, 3)
    )
    assert summary["effective_on"] == registration_charge(domain).effective_on == datetime.date(2031, 1, 7)


# --- database constraints -------------------------------------------------------------


@pytest.fixture
def confirmed(unit, office_user, conac_user):
    """One 认款 of 500 that consumed a 200 charge: the ledger has a credit and a debit."""
    domain = _marked_domain(unit, "约束", 1, office_user, conac_user, now=at(2025, 9, 1))
    remittance = remit(office_user, "500.00", "HK-C")
    services.confirm_remittance(remittance, actor=conac_user, now=at(2025, 9, 2))
    return remittance, registration_charge(domain)


def test_the_database_refuses_a_negative_balance(confirmed, office_user):
    account = OfficeAccount.objects.get(office=office_user.office)
    with pytest.raises(IntegrityError), transaction.atomic():
        OfficeAccount.objects.filter(pk=account.pk).update(balance=Decimal("-0.01"))
    remittance, charge = confirmed
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            office=office_user.office, kind="debit", amount=Decimal("400.00"), balance_after=Decimal("-100.00"),
            charge=charge,
        )  # fmt: skip
    assert refreshed(account).balance == Decimal("300.00")


def test_the_database_credits_a_remittance_once_and_debits_a_charge_once(confirmed, office_user, unit, conac_user):
    remittance, charge = confirmed
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            office=office_user.office, kind="credit", amount=remittance.amount, balance_after=Decimal("800.00"),
            remittance=remittance,
        )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            office=office_user.office, kind="debit", amount=charge.amount, balance_after=Decimal("100.00"),
            charge=charge,
        )  # fmt: skip
    # A line is a credit of a remittance or a debit of a charge, never both nor neither.
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            office=office_user.office, kind="credit", amount=Decimal("1.00"), balance_after=Decimal("1.00")
        )
    # A consumed charge always names the remittance that paid it.
    with pytest.raises(IntegrityError), transaction.atomic():
        Charge.objects.filter(pk=charge.pk).update(remittance=None)
    assert LedgerEntry.objects.count() == 2


def test_the_ledger_is_append_only(confirmed, office_user):
    entry = LedgerEntry.objects.filter(office=office_user.office).first()
    with pytest.raises(IntegrityError, match="账目只能追加"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1.00"))
    with pytest.raises(IntegrityError, match="账目只能追加"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert refreshed(entry).amount == Decimal("500.00")


def test_offices_balances_are_separate(unit, office_user, other_office_user, conac_user):
    factories.make_staff("hd_staff_2", "110108")
    services.confirm_remittance(remit(office_user, "300", "HK-1"), actor=conac_user, now=at(2025, 9, 2))
    services.confirm_remittance(remit(other_office_user, "700", "HK-1"), actor=conac_user, now=at(2025, 9, 2))
    services.confirm_remittance(remit(office_user, "50.50", "HK-2"), actor=conac_user, now=at(2025, 9, 3))
    assert balance_of(office_user.office) == Decimal("350.50")
    assert balance_of(other_office_user.office) == Decimal("700.00")
    assert ledger(office_user.office)[-1] == ("credit", Decimal("50.50"), Decimal("350.50"))
