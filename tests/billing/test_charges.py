"""Charges (消费): created at CONAC's approval at the price of that day, 消费变更, 确认收费,
续费 charges, and what 删除域名 does to each kind of charge.

The helpers at the top are shared by the other money tests of this folder.
"""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import jobs, services
from billing.models import C, Charge, ChargeKind, FeeMarking, FeeSchedule
from billing.money import yuan
from billing.services import BillingError
from conac.audit import history_of
from registry.domains import names
from registry.domains import services as domain_services
from registry.models import DomainStatus, UnitKind, User
from review import services as review
from tests import factories

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


# --- shared helpers ----------------------------------------------------------------------


def at(year, month, day, hour=10):
    """A moment in Beijing time."""
    return datetime.datetime(year, month, day, hour, tzinfo=SHANGHAI)


def approved_domain(unit, label, *, office_user, conac_user, years=1):
    """A unit applies; its office and CONAC approve: the domain is 待缴费 with its charge."""
    unit_user = User.objects.get(unit=unit)
    suffix = names.suffix_for_kind(unit.kind)
    domain = domain_services.submit_domain_application(unit, label=label, suffix=suffix, years=years, actor=unit_user)
    review.approve(domain, actor=office_user)
    review.approve(domain, actor=conac_user)
    domain.refresh_from_db()
    return domain


def registration_charge(domain):
    return Charge.objects.get(domain=domain, kind=ChargeKind.REGISTRATION)


def mark_all(unit, office_user, *, invoice_no="FP0001", now=None):
    """确认收费 of everything the unit owes, exactly as the staff saw it."""
    payable = list(services.payable_charges(unit, office_user.office))
    total = sum((c.amount for c in payable), Decimal("0.00"))
    return services.mark_fees_paid(
        unit, charge_ids=[c.pk for c in payable], invoice_no=invoice_no, amount=total, actor=office_user, now=now
    )


def active_domain(unit, label, *, expires_on, years=1):
    """A 注册成功 domain straight through the ORM (the renewal tests start there)."""
    return factories.make_domain(
        unit,
        label,
        status=DomainStatus.ACTIVE,
        years=years,
        registered_on=expires_on - datetime.timedelta(days=365 * years),
        expires_on=expires_on,
    )


def refreshed(obj):
    obj.refresh_from_db()
    return obj


# --- creation at CONAC's approval ---------------------------------------------------------


def test_the_charge_appears_only_when_conac_approves_with_the_applications_years(
    unit, unit_user, office_user, conac_user
):
    domain = domain_services.submit_domain_application(unit, label="收费时机", suffix=".政务", years=3, actor=unit_user)
    review.approve(domain, actor=office_user)
    assert not Charge.objects.filter(domain=domain).exists()  # the office's approval is not enough
    assert not services.payable_charges(unit, office_user.office).exists()

    review.approve(domain, actor=conac_user)

    charge = registration_charge(domain)
    assert charge.status == C.PENDING
    assert (charge.years, charge.unit_price, charge.amount) == (3, Decimal("200.00"), Decimal("600.00"))
    assert (charge.unit_id, charge.office_id) == (unit.pk, office_user.office_id)
    assert refreshed(domain).status == DomainStatus.AWAITING_PAYMENT
    assert list(services.payable_charges(unit, office_user.office)) == [charge]
    assert history_of(charge).filter(action="生成注册消费").exists()


def test_the_fee_is_fixed_when_the_charge_is_created(unit, other_unit, office_user, conac_user):
    today = timezone.localdate()
    schedule = FeeSchedule.objects.create(
        suffix=".政务", price_per_year=Decimal("300.00"), valid_from=today - datetime.timedelta(days=30)
    )
    first = registration_charge(
        approved_domain(unit, "定价一", years=2, office_user=office_user, conac_user=conac_user)
    )
    assert (first.unit_price, first.amount) == (Decimal("300.00"), Decimal("600.00"))

    # CONAC raises the price afterwards: the existing charge keeps its price, even after 消费变更.
    schedule.price_per_year = Decimal("350.00")
    schedule.save()
    assert refreshed(first).amount == Decimal("600.00")
    services.change_charge_years(first, years=3, actor=office_user)
    assert (refreshed(first).unit_price, first.amount) == (Decimal("300.00"), Decimal("900.00"))

    second = registration_charge(
        approved_domain(other_unit, "定价二", years=2, office_user=office_user, conac_user=conac_user)
    )
    assert (second.unit_price, second.amount) == (Decimal("350.00"), Decimal("700.00"))


def test_fee_schedule_validity_dates_are_respected(unit, office_user, conac_user):
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    FeeSchedule.objects.create(suffix=".政务", price_per_year=Decimal("150.00"), valid_from=today - 400 * day)
    FeeSchedule.objects.create(  # ended yesterday
        suffix=".政务", price_per_year=Decimal("100.00"), valid_from=today - 30 * day, valid_to=today - day
    )
    FeeSchedule.objects.create(suffix=".政务", price_per_year=Decimal("999.00"), valid_from=today + day)  # not yet
    FeeSchedule.objects.create(suffix=".公益", price_per_year=Decimal("80.00"), valid_from=today - 30 * day)

    assert services.price_for(".政务", today) == Decimal("150.00")
    assert services.price_for(".政务", today - 10 * day) == Decimal("100.00")
    assert services.price_for(".政务", today + day) == Decimal("999.00")
    assert services.price_for(".公益", today) == Decimal("80.00")
    assert services.price_for(".公益", today - 60 * day) == Decimal("200.00")  # before any row: the default

    organ = registration_charge(
        approved_domain(unit, "有效期", years=2, office_user=office_user, conac_user=conac_user)
    )
    assert organ.amount == Decimal("300.00")
    institution = factories.make_unit(region_code="110108", kind=UnitKind.INSTITUTION)
    charity = registration_charge(
        approved_domain(institution, "公益价格", years=3, office_user=office_user, conac_user=conac_user)
    )
    assert charity.domain.suffix == ".公益" and charity.amount == Decimal("240.00")


def test_money_is_decimal_with_two_places_never_a_float(unit, office_user, conac_user):
    FeeSchedule.objects.create(suffix=".政务", price_per_year=Decimal("33.33"), valid_from=datetime.date(2000, 1, 1))
    charge = registration_charge(approved_domain(unit, "分厘", years=3, office_user=office_user, conac_user=conac_user))
    assert isinstance(charge.amount, Decimal) and charge.amount.as_tuple().exponent == -2
    assert charge.amount == Decimal("99.99")
    assert yuan("0.005") == Decimal("0.01") and yuan(Decimal("2.675")) == Decimal("2.68")
    with pytest.raises(TypeError):
        yuan(99.99)
    with pytest.raises(TypeError):  # a float amount is a programming error, not a rounding question
        services.mark_fees_paid(unit, charge_ids=[charge.pk], invoice_no="FP1", amount=99.99, actor=office_user)
    assert refreshed(charge).status == C.PENDING


def test_database_refuses_a_charge_with_bad_money_or_years(unit):
    domain = factories.make_domain(unit, "坏数据")
    good = {
        "kind": ChargeKind.REGISTRATION,
        "domain": domain,
        "unit": unit,
        "office_id": unit.office_id,
        "years": 1,
        "unit_price": Decimal("200.00"),
        "amount": Decimal("200.00"),
    }
    for bad in ({"amount": Decimal("-200.00")}, {"years": 11}, {"years": 0}, {"status": "consumed"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Charge.objects.create(**{**good, **bad})
    Charge.objects.create(**good)
    with pytest.raises(IntegrityError), transaction.atomic():  # one registration charge per domain
        Charge.objects.create(**good)


# --- 消费变更 ---------------------------------------------------------------------------


def test_change_years_recomputes_the_amount_and_the_domains_years(unit, office_user, conac_user):
    domain = approved_domain(unit, "变更年限", years=2, office_user=office_user, conac_user=conac_user)
    charge = registration_charge(domain)

    services.change_charge_years(charge, years=5, actor=office_user)

    assert (refreshed(charge).years, charge.amount) == (5, Decimal("1000.00"))
    assert refreshed(domain).years == 5
    entry = history_of(charge).get(action="消费变更")
    assert entry.data["before"] == {"years": 2, "amount": "400.00"}


@pytest.mark.parametrize("years", [0, 11, -1, "3"])
def test_change_years_outside_1_to_10_is_refused(unit, office_user, conac_user, years):
    charge = registration_charge(
        approved_domain(unit, "年限范围", years=2, office_user=office_user, conac_user=conac_user)
    )
    with pytest.raises(BillingError, match="1至10年"):
        services.change_charge_years(charge, years=years, actor=office_user)
    assert (refreshed(charge).years, charge.amount) == (2, Decimal("400.00"))


def test_change_years_only_while_unpaid_and_only_by_the_charges_own_office(
    unit, office_user, other_office_user, province_office_user, conac_user, unit_user
):
    charge = registration_charge(
        approved_domain(unit, "仅待缴费", years=2, office_user=office_user, conac_user=conac_user)
    )
    for outsider in (other_office_user, province_office_user, conac_user, unit_user):
        with pytest.raises(BillingError, match="不属于本编办"):
            services.change_charge_years(charge, years=4, actor=outsider)
    mark_all(unit, office_user)
    with pytest.raises(BillingError, match="只有待缴费的消费可以变更"):
        services.change_charge_years(charge, years=4, actor=office_user)
    assert (refreshed(charge).years, charge.amount, charge.status) == (2, Decimal("400.00"), C.MARKED)


def test_a_renewal_may_not_reach_beyond_ten_years_from_today(unit, office_user):
    today = datetime.date(2025, 10, 10)
    domain = active_domain(unit, "十年上限", expires_on=datetime.date(2030, 10, 9))
    created, skipped = services.submit_renewals([domain.pk], years=1, actor=office_user, today=today)
    charge = created[0]

    services.change_charge_years(charge, years=5, actor=office_user, today=today)  # to 2035-10-09: allowed
    assert refreshed(charge).amount == Decimal("1000.00")
    with pytest.raises(BillingError, match="最多可续5年"):
        services.change_charge_years(charge, years=6, actor=office_user, today=today)
    assert refreshed(charge).years == 5

    # The same rule when the renewal is submitted: the domain is skipped with the reason.
    other = active_domain(unit, "十年上限二", expires_on=datetime.date(2033, 1, 1))
    created, skipped = services.submit_renewals([other.pk], years=3, actor=office_user, today=today)
    assert created == [] and "10年的上限" in skipped[other.full_name]


# --- 续费 charges ----------------------------------------------------------------------


def test_submit_renewals_creates_pending_charges_at_todays_price_and_never_twice(
    unit, other_unit, shanghai_unit, office_user
):
    today = datetime.date(2025, 10, 10)
    FeeSchedule.objects.create(suffix=".政务", price_per_year=Decimal("180.00"), valid_from=datetime.date(2025, 1, 1))
    active = active_domain(unit, "续费甲", expires_on=datetime.date(2025, 11, 1))
    expired = factories.make_domain(
        other_unit, "续费乙", status=DomainStatus.EXPIRED, expires_on=datetime.date(2025, 9, 1)
    )
    pending = factories.make_domain(unit, "续费丙", status=DomainStatus.AWAITING_PAYMENT)
    foreign = active_domain(shanghai_unit, "续费丁", expires_on=datetime.date(2025, 11, 1))

    created, skipped = services.submit_renewals(
        [active.pk, expired.pk, pending.pk, foreign.pk], years=2, actor=office_user, today=today
    )

    assert sorted(c.domain_id for c in created) == sorted([active.pk, expired.pk])
    for charge in created:
        charge.refresh_from_db()
        assert (charge.kind, charge.status, charge.years) == (ChargeKind.RENEWAL, C.PENDING, 2)
        assert (charge.unit_price, charge.amount) == (Decimal("180.00"), Decimal("360.00"))
    assert "不能续费" in skipped[pending.full_name]
    assert skipped["其他1个域名"] == "不存在或不属于本编办管理"
    assert not Charge.objects.filter(domain=foreign).exists()

    again, skipped = services.submit_renewals([active.pk], years=1, actor=office_user, today=today)
    assert again == [] and skipped[active.full_name] == "已有未完成的续费申请"
    assert Charge.objects.filter(domain=active).count() == 1


def test_only_office_staff_submit_renewals_of_one_to_ten_years(unit, unit_user, conac_user, office_user):
    domain = active_domain(unit, "续费权限", expires_on=datetime.date(2026, 1, 1))
    for actor in (unit_user, conac_user):
        with pytest.raises(BillingError, match="只有编办工作人员"):
            services.submit_renewals([domain.pk], years=1, actor=actor)
    for years in (0, 11):
        with pytest.raises(BillingError, match="1至10年"):
            services.submit_renewals([domain.pk], years=years, actor=office_user)
    assert not Charge.objects.exists()


# --- 确认收费 ---------------------------------------------------------------------------


def test_mark_fees_paid_marks_every_payable_charge_and_its_domain(unit, office_user, conac_user):
    first = approved_domain(unit, "收费一", years=2, office_user=office_user, conac_user=conac_user)
    second = approved_domain(unit, "收费二", years=1, office_user=office_user, conac_user=conac_user)
    renewal_domain = active_domain(unit, "收费续费", expires_on=datetime.date(2026, 3, 1))
    services.submit_renewals([renewal_domain.pk], years=1, actor=office_user, today=datetime.date(2025, 10, 10))
    payable = list(services.payable_charges(unit, office_user.office))
    assert len(payable) == 3

    marking = services.mark_fees_paid(
        unit, charge_ids=[str(c.pk) for c in payable], invoice_no=" FP2025-001 ", amount="800.00", actor=office_user
    )

    assert (marking.invoice_no, marking.amount, marking.unit_id) == ("FP2025-001", Decimal("800.00"), unit.pk)
    for charge in payable:
        charge.refresh_from_db()
        assert (charge.status, charge.marking_id) == (C.MARKED, marking.pk)
        assert charge.marked_at is not None
    assert refreshed(first).status == refreshed(second).status == DomainStatus.FEE_MARKED
    assert refreshed(renewal_domain).status == DomainStatus.ACTIVE  # a renewal does not touch the live domain
    assert not services.payable_charges(unit, office_user.office).exists()
    assert history_of(first).filter(action="确认收费", to_state="已收费").exists()


def test_mark_fees_paid_twice_is_refused_and_marks_nothing_twice(unit, office_user, conac_user):
    charge = registration_charge(
        approved_domain(unit, "重复收费", years=2, office_user=office_user, conac_user=conac_user)
    )
    mark_all(unit, office_user)

    with pytest.raises(BillingError, match="没有待缴费"):
        services.mark_fees_paid(unit, charge_ids=[charge.pk], invoice_no="FP2", amount="400.00", actor=office_user)

    assert FeeMarking.objects.count() == 1
    assert refreshed(charge).marking.invoice_no == "FP0001"


@pytest.mark.parametrize("amount", ["399.99", "400.01", "0", "800.00"])
def test_the_amount_must_equal_the_total(unit, office_user, conac_user, amount):
    charge = registration_charge(
        approved_domain(unit, "金额核对", years=2, office_user=office_user, conac_user=conac_user)
    )
    with pytest.raises(BillingError, match="与应收金额（400.00 元）不符"):
        services.mark_fees_paid(unit, charge_ids=[charge.pk], invoice_no="FP1", amount=amount, actor=office_user)
    assert refreshed(charge).status == C.PENDING and not FeeMarking.objects.exists()
    assert refreshed(charge.domain).status == DomainStatus.AWAITING_PAYMENT


def test_the_charges_must_be_exactly_the_payable_set(unit, office_user, conac_user):
    first = registration_charge(
        approved_domain(unit, "集合一", years=1, office_user=office_user, conac_user=conac_user)
    )
    second = registration_charge(
        approved_domain(unit, "集合二", years=1, office_user=office_user, conac_user=conac_user)
    )

    # The staff saw only the first (the second arrived since), or ticked a charge that is not payable.
    for ids, amount in (([first.pk], "200.00"), ([first.pk, second.pk, 999_999], "400.00"), (["x"], "200.00")):
        with pytest.raises(BillingError, match="刷新后重新核对"):
            services.mark_fees_paid(unit, charge_ids=ids, invoice_no="FP1", amount=amount, actor=office_user)
    # The years changed after the staff looked: the amount they checked is no longer the total.
    services.change_charge_years(second, years=2, actor=office_user)
    with pytest.raises(BillingError, match="不符"):
        services.mark_fees_paid(
            unit, charge_ids=[first.pk, second.pk], invoice_no="FP1", amount="400.00", actor=office_user
        )
    assert set(Charge.objects.values_list("status", flat=True)) == {C.PENDING}


def test_a_unit_with_nothing_approved_has_nothing_payable(unit, office_user):
    factories.make_domain(unit, "未审核")  # 待审核: nothing owed yet
    assert list(services.payable_charges(unit, office_user.office)) == []
    with pytest.raises(BillingError, match="没有待缴费"):
        services.mark_fees_paid(unit, charge_ids=[], invoice_no="FP1", amount="0", actor=office_user)
    assert not FeeMarking.objects.exists()


def test_only_the_units_own_office_marks_and_an_invoice_is_required(
    unit, office_user, other_office_user, province_office_user, conac_user, unit_user
):
    charge = registration_charge(
        approved_domain(unit, "他办收费", years=1, office_user=office_user, conac_user=conac_user)
    )
    for outsider in (other_office_user, province_office_user, conac_user, unit_user):
        with pytest.raises(BillingError, match="不属于本编办"):
            services.mark_fees_paid(unit, charge_ids=[charge.pk], invoice_no="FP1", amount="200", actor=outsider)
    assert list(services.payable_charges(unit, other_office_user.office)) == []
    with pytest.raises(BillingError, match="发票号码"):
        services.mark_fees_paid(unit, charge_ids=[charge.pk], invoice_no="  ", amount="200", actor=office_user)
    assert refreshed(charge).status == C.PENDING


# --- 删除域名 ---------------------------------------------------------------------------


def test_deleting_a_domain_settles_each_kind_of_charge(unit, other_unit, office_user, conac_user):
    unpaid = approved_domain(unit, "删除未缴", years=1, office_user=office_user, conac_user=conac_user)
    consumed = approved_domain(other_unit, "删除已认", years=2, office_user=office_user, conac_user=conac_user)
    mark_all(other_unit, office_user, invoice_no="FP1")
    first = services.register_remittance(
        office_user.office, amount="400.00", remitted_on=datetime.date(2025, 9, 1), voucher_no="HK-DEL-1",
        actor=office_user, today=datetime.date(2025, 9, 2),
    )  # fmt: skip
    confirmed = services.confirm_remittance(first, actor=conac_user, now=at(2025, 9, 2))
    assert confirmed["consumed_count"] == 1
    assert jobs.activate_due_domains(confirmed["effective_on"]) == 1  # live: its paid years have begun
    marked = approved_domain(other_unit, "删除待退", years=1, office_user=office_user, conac_user=conac_user)
    mark_all(other_unit, office_user, invoice_no="FP2")

    for domain in (unpaid, consumed, marked):
        domain_services.delete_domain(domain, reason="单位撤销", actor=office_user)

    unpaid_charge = registration_charge(unpaid)
    assert unpaid_charge.status == C.CANCELLED and unpaid_charge.cancelled_at is not None
    assert registration_charge(consumed).status == C.CONSUMED  # spent on years that began: stays spent
    marked_charge = registration_charge(marked)
    # Marked but never consumed: the unit's money is owed back and still counted, with its marking.
    assert marked_charge.status == C.REFUND_PENDING and marked_charge.marking.invoice_no == "FP2"
    assert history_of(marked_charge).filter(action="删除域名", to_state="待退费").exists()
    assert {d.status for d in (refreshed(unpaid), refreshed(consumed), refreshed(marked))} == {DomainStatus.DELETED}

    # The next 认款 does not spend the deleted domain's money: it all stays in the balance.
    second = services.register_remittance(
        office_user.office, amount="500.00", remitted_on=datetime.date(2025, 9, 2), voucher_no="HK-DEL-2",
        actor=office_user, today=datetime.date(2025, 9, 3),
    )  # fmt: skip
    summary = services.confirm_remittance(second, actor=conac_user, now=at(2025, 9, 3))
    assert (summary["consumed_count"], summary["balance"]) == (0, Decimal("500.00"))
    assert refreshed(marked_charge).status == C.REFUND_PENDING


def test_deleting_a_domain_with_a_pending_renewal_cancels_the_renewal(unit, office_user, other_office_user):
    domain = active_domain(unit, "删续费", expires_on=datetime.date(2026, 1, 1))
    (renewal,), _ = services.submit_renewals([domain.pk], years=1, actor=office_user, today=datetime.date(2025, 10, 1))
    with pytest.raises(domain_services.DomainError, match="不属于本编办"):
        domain_services.delete_domain(domain, reason="测试", actor=other_office_user)
    assert refreshed(renewal).status == C.PENDING

    domain_services.delete_domain(domain, reason="停止使用", actor=office_user)

    assert refreshed(renewal).status == C.CANCELLED
    assert refreshed(domain).status == DomainStatus.DELETED


def test_a_unit_moved_to_another_office_pays_its_unpaid_charges_there(unit, office_user, conac_user):
    """Unpaid charges follow the unit to its new 同级编办; the new office can mark them."""
    from registry.models import Office, Region
    from registry.organisations.services import update_unit
    from tests.factories import make_staff

    domain = submit_and_approve_for_test(unit, office_user, conac_user)
    charge = Charge.objects.get(domain=domain)
    data = {
        f: getattr(unit, f)
        for f in (
            "name",
            "kind",
            "credit_code",
            "address",
            "leader",
            "contact",
            "contact_mobile",
            "contact_email",
            "office_phone",
            "handler",
            "handler_id_number",
        )
    }
    data.update(level="province", region=Region.objects.get(code="110000"))
    update_unit(unit, unit_data=data, actor=office_user)
    unit.refresh_from_db()
    beijing = Office.objects.get(code="110000")
    charge.refresh_from_db()
    domain.refresh_from_db()
    assert unit.office == beijing and charge.office == beijing and domain.office == beijing
    bj_staff = make_staff("bj_mover", "110000")
    services.mark_fees_paid(unit, charge_ids=[charge.pk], invoice_no="FP-MOVE", amount=charge.amount, actor=bj_staff)
    charge.refresh_from_db()
    assert charge.status == C.MARKED and charge.marking.office == beijing


def submit_and_approve_for_test(unit, office_user, conac_user):
    from registry.domains import services as domain_services
    from review import services as review

    domain = domain_services.submit_domain_application(
        unit, label="搬迁测试", suffix=".政务", years=1, actor=unit.account
    )
    review.approve(domain, actor=office_user)
    review.approve(domain, actor=conac_user)
    return domain
