"""Two people clicking the money buttons at the same moment (认款, 确认收费, 删除域名, 续费,
退费), on PostgreSQL with real transactions and threads: each thread has its own connection, so the row locks and the
unique constraints decide, exactly as between two web processes."""

import datetime
import time
import zoneinfo
from decimal import Decimal

import pytest

from billing import jobs, services
from billing.models import (
    C,
    Charge,
    ChargeKind,
    FeeMarking,
    LedgerEntry,
    OfficeAccount,
    Refund,
    Remittance,
    RemittanceStatus,
)
from billing.services import BillingError
from conac import audit
from registry.domains import hooks
from registry.domains import services as domain_services
from registry.models import Domain, DomainStatus
from tests import factories
from tests.concurrency import _persona_regions, _whole_tree_back_after_module, run_together, split  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2025, 9, 30, 10, tzinfo=SHANGHAI)


@pytest.fixture
def slow_audit(monkeypatch):
    """Hold each transaction open a little longer, so the second click arrives while the first is inside."""
    real_record, real_record_many = audit.record, audit.record_many

    def record(*args, **kwargs):
        time.sleep(0.2)
        return real_record(*args, **kwargs)

    def record_many(*args, **kwargs):
        time.sleep(0.2)
        return real_record_many(*args, **kwargs)

    monkeypatch.setattr(audit, "record", record)
    monkeypatch.setattr(audit, "record_many", record_many)


def marked_charges(unit, office_user, amounts, *, invoice_no="FP1"):
    """Registration charges of ``amounts`` (yuan), 确认收费 for ``unit``: 已收费, waiting for 认款."""
    for i, amount in enumerate(amounts):
        domain = factories.make_domain(unit, f"并发{invoice_no}{i}", status=DomainStatus.AWAITING_PAYMENT)
        Charge.objects.create(
            kind=ChargeKind.REGISTRATION, domain=domain, unit=unit, office_id=unit.office_id, years=1,
            unit_price=Decimal(amount), amount=Decimal(amount),
        )  # fmt: skip
    payable = list(services.payable_charges(unit, office_user.office))
    services.mark_fees_paid(
        unit, charge_ids=[c.pk for c in payable], invoice_no=invoice_no, amount=sum(c.amount for c in payable),
        actor=office_user, now=NOW - datetime.timedelta(hours=1),
    )  # fmt: skip
    return [Charge.objects.get(pk=c.pk) for c in payable]


def remittance(office_user, amount, voucher_no):
    return services.register_remittance(
        office_user.office, amount=amount, remitted_on=NOW.date(), voucher_no=voucher_no, actor=office_user,
        today=NOW.date(),
    )  # fmt: skip


def assert_books_balance(office):
    lines = list(LedgerEntry.objects.filter(office=office).order_by("id"))
    running = Decimal("0.00")
    for line in lines:
        running += -line.amount if line.kind == "debit" else line.amount  # 认款入账 and 退回 are credits
        assert line.balance_after == running >= 0
    balance = OfficeAccount.objects.get(office=office).balance
    assert balance == running
    confirmed = sum(r.amount for r in Remittance.objects.filter(office=office, status=RemittanceStatus.CONFIRMED))
    spent = sum(c.amount for c in Charge.objects.filter(office=office, status__in=[C.CONSUMED, C.APPLIED]))
    assert confirmed == spent + balance
    return balance


def test_two_renkuan_of_one_remittance_at_once_credit_it_once(unit, office_user, conac_user, slow_audit):
    colleague = factories.make_staff("conac_staff_2", None, role="conac")
    charges = marked_charges(unit, office_user, ["200.00", "400.00"])
    money = remittance(office_user, "1000.00", "HK-RACE")

    def confirm(actor):
        return lambda: services.confirm_remittance(Remittance.objects.get(pk=money.pk), actor=actor, now=NOW)

    ok, failed = split(run_together(confirm(conac_user), confirm(colleague)))

    assert len(ok) == 1 and len(failed) == 1, failed
    assert isinstance(failed[0], BillingError) and "不能重复认款" in str(failed[0])
    assert ok[0]["consumed_count"] == 2
    assert LedgerEntry.objects.filter(remittance=money).count() == 1
    assert LedgerEntry.objects.filter(kind="debit").count() == 2
    assert {Charge.objects.get(pk=c.pk).status for c in charges} == {C.CONSUMED}
    assert assert_books_balance(office_user.office) == Decimal("400.00")


def test_two_mark_fees_of_one_unit_at_once_mark_it_once(unit, office_user, conac_user, slow_audit):
    colleague = factories.make_staff("hd_staff_2", "110108")
    for i in range(3):
        domain = factories.make_domain(unit, f"并发收费{i}", status=DomainStatus.AWAITING_PAYMENT)
        Charge.objects.create(
            kind=ChargeKind.REGISTRATION, domain=domain, unit=unit, office_id=unit.office_id, years=2,
            unit_price=Decimal("200.00"), amount=Decimal("400.00"),
        )  # fmt: skip
    ids = list(services.payable_charges(unit, office_user.office).values_list("pk", flat=True))

    def mark(actor, invoice_no):
        return lambda: services.mark_fees_paid(
            unit, charge_ids=ids, invoice_no=invoice_no, amount="1200.00", actor=actor
        )

    ok, failed = split(run_together(mark(office_user, "FP-A"), mark(colleague, "FP-B")))

    assert len(ok) == 1 and len(failed) == 1, failed
    assert isinstance(failed[0], BillingError), repr(failed[0])
    marking = FeeMarking.objects.get()
    assert marking.pk == ok[0].pk and marking.amount == Decimal("1200.00")
    assert set(Charge.objects.values_list("status", "marking_id")) == {(C.MARKED, marking.pk)}
    assert set(Domain.objects.values_list("status", flat=True)) == {DomainStatus.FEE_MARKED}


def test_two_renkuan_of_one_office_at_once_consume_each_charge_once(unit, office_user, conac_user, slow_audit):
    colleague = factories.make_staff("conac_staff_2", None, role="conac")
    charges = marked_charges(unit, office_user, ["300.00", "300.00", "300.00", "300.00", "300.00"])
    first, second = remittance(office_user, "700.00", "HK-1"), remittance(office_user, "800.00", "HK-2")
    assert not OfficeAccount.objects.exists()  # the office's very first 认款: its account is created in the race

    ok, failed = split(
        run_together(
            lambda: services.confirm_remittance(first, actor=conac_user, now=NOW),
            lambda: services.confirm_remittance(second, actor=colleague, now=NOW),
        )
    )

    assert failed == [] and len(ok) == 2
    assert set(Remittance.objects.values_list("status", flat=True)) == {RemittanceStatus.CONFIRMED}
    assert LedgerEntry.objects.filter(kind="credit").count() == 2
    debits = list(LedgerEntry.objects.filter(kind="debit").values_list("charge_id", flat=True))
    assert len(debits) == len(set(debits)) == 5  # 1500 covers all five 300s, each once
    assert sum(s["consumed_count"] for s in ok) == 5
    assert {Charge.objects.get(pk=c.pk).status for c in charges} == {C.CONSUMED}
    assert assert_books_balance(office_user.office) == Decimal("0.00")


def test_delete_and_renkuan_at_once_neither_deadlock_nor_lose_money(unit, office_user, conac_user, monkeypatch):
    (charge,) = marked_charges(unit, office_user, ["200.00"])
    money = remittance(office_user, "500.00", "HK-DEL")

    # 删除域名 locks the domain, then (in the billing hook) its charges. Hold it between the
    # two, so the 认款 arrives while the domain is locked and its charge not yet.
    def pause(domain, actor, reason):
        time.sleep(0.5)

    monkeypatch.setattr(hooks, "domain_deleted", [pause, *hooks.domain_deleted])

    def delete():
        return domain_services.delete_domain(Domain.objects.get(pk=charge.domain_id), reason="撤销", actor=office_user)

    def confirm():
        time.sleep(0.1)  # let the delete take its first lock
        return services.confirm_remittance(money, actor=conac_user, now=NOW)

    ok, failed = split(run_together(delete, confirm))

    assert failed == [], failed  # no deadlock: both went through, one after the other
    charge.refresh_from_db()
    assert Domain.objects.get(pk=charge.domain_id).status == DomainStatus.DELETED
    # The delete came first: the unit's money is owed back, and the whole remittance is balance.
    assert charge.status == C.REFUND_PENDING
    assert not LedgerEntry.objects.filter(kind="debit").exists()
    assert assert_books_balance(office_user.office) == Decimal("500.00")


def test_delete_and_mark_fees_at_once_neither_deadlock_nor_mark_a_deleted_domain(unit, office_user, monkeypatch):
    colleague = factories.make_staff("hd_staff_2", "110108")
    domain = factories.make_domain(unit, "并发删收", status=DomainStatus.AWAITING_PAYMENT)
    charge = Charge.objects.create(
        kind=ChargeKind.REGISTRATION, domain=domain, unit=unit, office_id=unit.office_id, years=1,
        unit_price=Decimal("200.00"), amount=Decimal("200.00"),
    )  # fmt: skip

    def pause(domain, actor, reason):
        time.sleep(0.5)

    monkeypatch.setattr(hooks, "domain_deleted", [pause, *hooks.domain_deleted])

    def delete():
        return domain_services.delete_domain(Domain.objects.get(pk=domain.pk), reason="撤销", actor=office_user)

    def mark():
        time.sleep(0.1)
        return services.mark_fees_paid(unit, charge_ids=[charge.pk], invoice_no="FP", amount="200", actor=colleague)

    results = run_together(delete, mark)

    assert results[0][0] is True, results[0]
    assert results[1][0] is False and isinstance(results[1][1], BillingError), results[1]
    charge.refresh_from_db()
    assert (charge.status, charge.marking_id) == (C.CANCELLED, None)
    assert not FeeMarking.objects.exists()


def test_two_renewal_submissions_at_once_renew_each_domain_once(unit, office_user, slow_audit):
    colleague = factories.make_staff("hd_staff_2", "110108")
    ids = [
        factories.make_domain(
            unit, f"并发续费{i}", status=DomainStatus.ACTIVE, registered_on=datetime.date(2025, 1, 1),
            expires_on=datetime.date(2026, 1, 1),
        ).pk
        for i in range(5)
    ]  # fmt: skip

    def renew(actor):
        return lambda: services.submit_renewals(ids, years=1, actor=actor, today=NOW.date())

    ok, failed = split(run_together(renew(office_user), renew(colleague)))

    assert failed == [], failed
    created = sorted(len(created) for created, _ in ok)
    assert created == [0, 5]  # the second found them all with an open renewal
    assert Charge.objects.filter(kind=ChargeKind.RENEWAL).count() == 5


def owed_back(unit, office_user, amount="200.00"):
    """A registration charge marked paid, then its domain deleted: 待退费."""
    (charge,) = marked_charges(unit, office_user, [amount], invoice_no="FP-TF")
    domain_services.delete_domain(Domain.objects.get(pk=charge.domain_id), reason="撤销", actor=office_user)
    charge.refresh_from_db()
    assert charge.status == C.REFUND_PENDING
    return charge


def test_a_double_click_on_refund_records_it_once(unit, office_user, slow_audit):
    charge = owed_back(unit, office_user)

    def click():
        return services.record_refund(
            Charge.objects.get(pk=charge.pk), refunded_on=NOW.date(), voucher_no="TF-1", amount="200.00",
            actor=office_user,
        )  # fmt: skip

    ok, failed = split(run_together(click, click))

    assert failed == [], failed
    assert ok[0].pk == ok[1].pk  # the second click found the first one's refund
    assert Refund.objects.count() == 1
    assert Charge.objects.get(pk=charge.pk).status == C.REFUNDED


def test_two_clerks_refunding_one_charge_at_once_refund_it_once(unit, office_user, slow_audit):
    colleague = factories.make_staff("hd_staff_2", "110108")
    charge = owed_back(unit, office_user)

    def refund(actor, voucher_no):
        return lambda: services.record_refund(
            Charge.objects.get(pk=charge.pk), refunded_on=NOW.date(), voucher_no=voucher_no, amount="200.00",
            actor=actor,
        )  # fmt: skip

    ok, failed = split(run_together(refund(office_user, "TF-A"), refund(colleague, "TF-B")))

    assert len(ok) == 1 and len(failed) == 1
    assert isinstance(failed[0], BillingError) and "不能重复退费" in str(failed[0])
    assert Refund.objects.get().voucher_no == ok[0].voucher_no


def test_delete_with_a_return_and_renkuan_at_once_neither_deadlock_nor_lose_money(
    unit, office_user, conac_user, monkeypatch
):
    """删除域名 locks the domain, then its charges, then (returning a consumed renewal) the
    office's account; 认款 must take the domain before the account, or the two deadlock."""
    domain = factories.make_domain(
        unit, "并发退回", status=DomainStatus.ACTIVE, registered_on=datetime.date(2025, 6, 1),
        expires_on=datetime.date(2026, 6, 1),
    )  # fmt: skip

    def renew_and_mark(invoice_no):
        (charge,), _ = services.submit_renewals([domain.pk], years=1, actor=office_user, today=NOW.date())
        services.mark_fees_paid(
            unit, charge_ids=[charge.pk], invoice_no=invoice_no, amount=charge.amount, actor=office_user,
            now=NOW - datetime.timedelta(hours=3),
        )  # fmt: skip
        return charge

    first = renew_and_mark("FP-R1")
    summary = services.confirm_remittance(remittance(office_user, "200.00", "HK-R1"), actor=conac_user, now=NOW)
    assert jobs.apply_due_renewals(summary["effective_on"]) == 1  # applied: its year starts 2026-06-02
    second = renew_and_mark("FP-R2")  # the next year, 已收费: 认款 will want this domain too
    money = remittance(office_user, "500.00", "HK-R2")

    def pause(domain, actor, reason):
        time.sleep(0.5)

    monkeypatch.setattr(hooks, "domain_deleted", [pause, *hooks.domain_deleted])

    def delete():
        return domain_services.delete_domain(
            Domain.objects.get(pk=domain.pk), reason="撤销", actor=office_user, now=NOW + datetime.timedelta(hours=1)
        )

    def confirm():
        time.sleep(0.1)  # let the delete take the domain first
        return services.confirm_remittance(money, actor=conac_user, now=NOW + datetime.timedelta(hours=1))

    ok, failed = split(run_together(delete, confirm))

    assert failed == [], failed
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (C.REFUND_PENDING, C.REFUND_PENDING)
    assert LedgerEntry.objects.filter(kind="return", charge=first).count() == 1
    assert assert_books_balance(office_user.office) == Decimal("700.00")  # 200 returned + 500 remitted


def test_delete_with_a_return_and_the_daily_job_at_once_neither_deadlock_nor_lose_money(
    unit, office_user, conac_user, monkeypatch
):
    """The job that applies a due renewal and 删除域名 of its domain, at the same moment: whichever
    comes first, the renewal is either applied (then returned, its year still ahead) or returned."""
    domain = factories.make_domain(
        unit, "并发生效", status=DomainStatus.ACTIVE, registered_on=datetime.date(2025, 6, 1),
        expires_on=datetime.date(2026, 6, 1),
    )  # fmt: skip
    (charge,), _ = services.submit_renewals([domain.pk], years=1, actor=office_user, today=NOW.date())
    services.mark_fees_paid(
        unit, charge_ids=[charge.pk], invoice_no="FP-JOB", amount=charge.amount, actor=office_user,
        now=NOW - datetime.timedelta(hours=3),
    )  # fmt: skip
    summary = services.confirm_remittance(remittance(office_user, "200.00", "HK-JOB"), actor=conac_user, now=NOW)

    def pause(domain, actor, reason):
        time.sleep(0.5)

    monkeypatch.setattr(hooks, "domain_deleted", [pause, *hooks.domain_deleted])

    def delete():
        return domain_services.delete_domain(
            Domain.objects.get(pk=domain.pk), reason="撤销", actor=office_user, now=NOW + datetime.timedelta(days=1)
        )

    def apply():
        time.sleep(0.1)  # the delete holds the domain, not yet its charges
        return jobs.apply_due_renewals(summary["effective_on"])

    ok, failed = split(run_together(delete, apply))

    assert failed == [], failed
    charge.refresh_from_db()
    assert charge.status == C.REFUND_PENDING
    assert LedgerEntry.objects.filter(kind="return", charge=charge).count() == 1
    assert assert_books_balance(office_user.office) == Decimal("200.00")
