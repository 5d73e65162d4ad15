"""Thousands at once: renewing 10,000 domains in one submission, marking their 10,000 renewal
charges, and an 认款 that consumes all of them each run a fixed number of SQL statements,
the same for 100 rows as for 10,000 (not one per row)."""

import datetime
import uuid
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import services
from billing.models import C, Charge, LedgerEntry, OfficeAccount
from conac.models import AuditEntry
from registry.models import Domain, DomainStatus
from tests import factories

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2025, 10, 13)
STATEMENT_CAP = 30


def seed_active_domains(unit, count, prefix):
    """``count`` 注册成功 domains of ``unit`` in one INSERT (not through the review 10,000 times)."""
    now = timezone.now()
    Domain.objects.bulk_create(
        [
            Domain(
                public_id=uuid.uuid4(), unit=unit, office_id=unit.office_id, label=f"{prefix}{i}",
                alabel=f"xn--bulk-{prefix}-{i}", suffix=".政务", years=1, status=DomainStatus.ACTIVE,
                registered_on=datetime.date(2024, 11, 1), expires_on=datetime.date(2025, 11, 1),
                submitted_at=now,
            )
            for i in range(count)
        ]
    )  # fmt: skip
    return list(Domain.objects.filter(unit=unit).values_list("pk", flat=True))


def statements(call):
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return len(captured), result


def renew_mark_and_confirm(unit, office_user, conac_user, count, prefix):
    """The whole 续费 path for ``count`` domains; returns the statements each step ran."""
    ids = seed_active_domains(unit, count, prefix)
    renew_n, (created, skipped) = statements(
        lambda: services.submit_renewals(ids, years=2, actor=office_user, today=TODAY)
    )
    assert len(created) == count and not skipped
    total = Decimal("400.00") * count
    mark_n, marking = statements(
        lambda: services.mark_fees_paid(
            unit, charge_ids=[c.pk for c in created], invoice_no=f"FP-{prefix}", amount=total, actor=office_user
        )
    )
    money = services.register_remittance(
        office_user.office, amount=total, remitted_on=TODAY, voucher_no=f"HK-{prefix}", actor=office_user, today=TODAY
    )
    confirm_n, summary = statements(
        lambda: services.confirm_remittance(
            money, actor=conac_user, now=datetime.datetime(2025, 10, 13, 10, tzinfo=SHANGHAI)
        )
    )
    assert summary["consumed_count"] == count and summary["balance"] == Decimal("0.00")
    assert (
        Charge.objects.filter(marking=marking, status=C.CONSUMED, effective_on=datetime.date(2025, 10, 14)).count()
        == count
    )
    return {"submit_renewals": renew_n, "mark_fees_paid": mark_n, "confirm_remittance": confirm_n}


def test_ten_thousand_renewals_paid_and_confirmed_in_a_fixed_number_of_statements(office_user, conac_user):
    office_user.email = "haidian@example.cn"  # the 认款 notice goes out as it would
    office_user.save()
    units = [factories.make_unit(region_code="110108") for _ in range(3)]
    renew_mark_and_confirm(units[0], office_user, conac_user, 2, "预热")  # the account and caches exist after this

    small = renew_mark_and_confirm(units[1], office_user, conac_user, 100, "小批")
    large = renew_mark_and_confirm(units[2], office_user, conac_user, 10_000, "大批")

    assert large == small, (small, large)
    assert all(n <= STATEMENT_CAP for n in large.values()), large
    # Everything was written, not skipped: a debit and audit entries for every one of the 10,000.
    assert LedgerEntry.objects.filter(kind="debit").count() == 10_102
    assert AuditEntry.objects.filter(action="认款消费").count() == 10_102
    assert OfficeAccount.objects.get(office=office_user.office).balance == Decimal("0.00")


def test_renewals_skip_what_cannot_be_renewed_without_a_query_per_domain(unit, office_user):
    ids = seed_active_domains(unit, 3_000, "跳过")
    Domain.objects.filter(pk__in=ids[:1000]).update(status=DomainStatus.AWAITING_PAYMENT)
    count, (created, skipped) = statements(
        lambda: services.submit_renewals([*ids, 10**9], years=1, actor=office_user, today=TODAY)
    )
    assert len(created) == 2000 and len(skipped) == 1001
    assert count <= STATEMENT_CAP
    # The same ticks again: all 2,000 already have an open renewal.
    count, (created, skipped) = statements(
        lambda: services.submit_renewals(ids, years=1, actor=office_user, today=TODAY)
    )
    assert created == [] and len(skipped) == 3000 and count <= STATEMENT_CAP
