import datetime
from decimal import Decimal

from billing import jobs, services
from billing.models import Charge, LedgerEntry, OfficeAccount
from registry import domain_services
from registry.models import DomainStatus
from review import services as review


def test_registration_to_active_and_renewal(unit, unit_user, office_user, conac_user):
    d = domain_services.submit_domain_application(unit, label="钱测试", suffix=".政务", years=2, actor=unit_user)
    review.approve(d, actor=office_user)
    review.approve(d, actor=conac_user)
    charge = Charge.objects.get(domain=d)
    assert charge.amount == Decimal("400.00")
    services.change_charge_years(charge, years=3, actor=office_user)
    charge.refresh_from_db()
    assert charge.amount == Decimal("600.00")
    services.mark_fees_paid(unit, charge_ids=[charge.pk], invoice_no="FP001", amount="600.00", actor=office_user)
    d.refresh_from_db()
    assert d.status == DomainStatus.FEE_MARKED
    r = services.register_remittance(
        office_user.office,
        amount="1000",
        remitted_on=datetime.date(2025, 9, 29),
        voucher_no="HK1",
        actor=office_user,
        today=datetime.date(2025, 9, 30),
    )
    import zoneinfo

    now = datetime.datetime(2025, 9, 30, 10, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    summary = services.confirm_remittance(r, actor=conac_user, now=now)
    assert summary["consumed_count"] == 1 and summary["balance"] == Decimal("400.00")
    assert summary["effective_on"] == datetime.date(2025, 10, 9)
    assert OfficeAccount.objects.get(office=office_user.office).balance == Decimal("400.00")
    assert LedgerEntry.objects.count() == 2
    assert jobs.run_all(datetime.date(2025, 10, 8))["activated"] == 0
    assert jobs.run_all(datetime.date(2025, 10, 9))["activated"] == 1
    d.refresh_from_db()
    assert d.status == DomainStatus.ACTIVE and d.expires_on == datetime.date(2028, 10, 9)
    assert jobs.run_all(datetime.date(2025, 10, 9)) == {"activated": 0, "renewed": 0, "expired": 0, "reminders": 0}
    created, skipped = services.submit_renewals([d.pk], years=2, actor=office_user, today=datetime.date(2025, 10, 10))
    assert len(created) == 1 and not skipped
    created2, skipped2 = services.submit_renewals([d.pk], years=2, actor=office_user, today=datetime.date(2025, 10, 10))
    assert not created2 and skipped2
