"""对账报表 is computed once per change of the money tables, not once per page view; a change is
in the next report at once."""

import datetime
from decimal import Decimal

from billing import reports, services
from billing.models import Remittance


def test_the_report_is_read_again_only_when_money_moved(office_user, django_assert_num_queries):
    office = office_user.office
    first = reports.reconciliation(office).lines[0]
    assert first.pending_remittance_total == 0
    with django_assert_num_queries(1):  # the stamp: nothing moved, nothing summed again
        assert reports.reconciliation(office).lines[0].pending_remittance_total == 0

    services.register_remittance(
        office, amount="120.50", remitted_on=datetime.date(2026, 1, 5), voucher_no="CACHE-1", actor=office_user
    )
    assert reports.reconciliation(office).lines[0].pending_remittance_total == Decimal("120.50")
    assert reports.reconciliation().total.pending_remittance_total == Decimal("120.50")


def test_a_row_changed_without_a_new_audit_entry_or_row_is_still_seen_within_the_cache_time(office_user, monkeypatch):
    office = office_user.office
    services.register_remittance(
        office, amount="10.00", remitted_on=datetime.date(2026, 1, 5), voucher_no="CACHE-2", actor=office_user
    )
    assert reports.reconciliation(office).lines[0].remitted_total == Decimal("10.00")
    Remittance.objects.filter(voucher_no="CACHE-2").update(amount=Decimal("11.00"))  # behind the services' back
    monkeypatch.setattr(reports.time, "monotonic", lambda: 10**9)  # REPORT_CACHE_SECONDS later, this process
    reports.cache.clear()  # … and in the shared cache
    assert reports.reconciliation(office).lines[0].remitted_total == Decimal("11.00")
