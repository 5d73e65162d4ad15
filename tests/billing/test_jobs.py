"""The daily jobs as of one date: activation on the working day after 认款, renewals from the
old expiry, expiry, and the 30/7/1-day reminders. Each run twice for a date changes nothing."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from billing import jobs, services, tasks
from billing.models import C, Charge, ChargeKind
from conac.audit import history_of
from conac.models import AuditEntry, Notice
from registry.domains import services as domain_services
from registry.models import Domain, DomainStatus
from tests import factories
from tests.billing.test_charges import active_domain, approved_domain, at, mark_all, refreshed, registration_charge

pytestmark = pytest.mark.django_db

NOTHING = {"activated": 0, "renewed": 0, "expired": 0, "reminders": 0}


def daily_jobs(day):
    out = io.StringIO()
    call_command("daily_jobs", "--date", day.isoformat(), "--allow-future", stdout=out)
    return out.getvalue()


def paid_for(unit, office_user, conac_user, *, remitted_on, confirmed_at, voucher_no="HK-JOB"):
    """Mark everything the unit owes, remit exactly that, and have CONAC confirm it."""
    total = sum(c.amount for c in services.payable_charges(unit, office_user.office))
    mark_all(unit, office_user, invoice_no=f"FP-{voucher_no}")
    remittance = services.register_remittance(
        office_user.office, amount=total, remitted_on=remitted_on, voucher_no=voucher_no, actor=office_user,
        today=remitted_on,
    )  # fmt: skip
    return services.confirm_remittance(remittance, actor=conac_user, now=confirmed_at)


def snapshot():
    """Everything a second run could change."""
    return (
        list(Domain.objects.order_by("id").values_list("id", "status", "registered_on", "expires_on")),
        list(Charge.objects.order_by("id").values_list("id", "status", "previous_expiry")),
        AuditEntry.objects.count(),
        Notice.objects.count(),
    )


# --- activation ----------------------------------------------------------------------


def test_a_paid_domain_goes_live_on_the_working_day_after_renkuan(unit, office_user, conac_user):
    domain = approved_domain(unit, "每日生效", years=2, office_user=office_user, conac_user=conac_user)
    paid_for(unit, office_user, conac_user, remitted_on=datetime.date(2025, 9, 29), confirmed_at=at(2025, 9, 30, 16))

    for holiday in (datetime.date(2025, 10, 1), datetime.date(2025, 10, 8)):
        assert "域名生效 0" in daily_jobs(holiday)
        assert refreshed(domain).status == DomainStatus.ACTIVATING

    assert "域名生效 1" in daily_jobs(datetime.date(2025, 10, 9))

    domain.refresh_from_db()
    assert domain.status == DomainStatus.ACTIVE
    assert (domain.registered_on, domain.expires_on) == (datetime.date(2025, 10, 9), datetime.date(2027, 10, 9))
    assert registration_charge(domain).status == C.CONSUMED
    assert history_of(domain).filter(action="注册成功", to_state="注册成功").exists()
    sent = Notice.objects.filter(template="domain_active")
    assert {(n.channel, n.recipient) for n in sent} == {("sms", unit.contact_mobile), ("email", unit.contact_email)}
    assert "到期时间2027-10-09" in sent.get(channel="sms").body

    before = snapshot()
    assert "域名生效 0，续费生效 0，过期 0，到期提醒 0" in daily_jobs(datetime.date(2025, 10, 9))
    assert snapshot() == before


def test_a_late_run_still_activates_with_the_effective_day(unit, office_user, conac_user):
    domain = approved_domain(unit, "补跑生效", years=1, office_user=office_user, conac_user=conac_user)
    paid_for(unit, office_user, conac_user, remitted_on=datetime.date(2025, 9, 18), confirmed_at=at(2025, 9, 19))

    assert jobs.run_all(datetime.date(2025, 9, 24))["activated"] == 1  # the jobs did not run on the 22nd

    domain.refresh_from_db()
    assert (domain.registered_on, domain.expires_on) == (datetime.date(2025, 9, 22), datetime.date(2026, 9, 22))


def test_a_year_the_calendar_package_does_not_know_uses_monday_to_friday(unit, office_user, conac_user):
    domain = approved_domain(unit, "未来年份", years=1, office_user=office_user, conac_user=conac_user)
    summary = paid_for(
        unit, office_user, conac_user, remitted_on=datetime.date(2031, 1, 3), confirmed_at=at(2031, 1, 3)
    )
    assert summary["effective_on"] == datetime.date(2031, 1, 6)  # Friday → Monday

    assert jobs.run_all(datetime.date(2031, 1, 5)) == NOTHING
    assert jobs.run_all(datetime.date(2031, 1, 6))["activated"] == 1
    assert refreshed(domain).expires_on == datetime.date(2032, 1, 6)


def test_a_domain_deleted_while_waiting_is_not_activated(unit, office_user, conac_user):
    domain = approved_domain(unit, "待生效删除", years=1, office_user=office_user, conac_user=conac_user)
    paid_for(unit, office_user, conac_user, remitted_on=datetime.date(2025, 9, 18), confirmed_at=at(2025, 9, 19))
    domain_services.delete_domain(domain, reason="单位撤销", actor=office_user)

    assert jobs.run_all(datetime.date(2025, 9, 22)) == NOTHING
    assert refreshed(domain).status == DomainStatus.DELETED and domain.expires_on is None


# --- renewals ------------------------------------------------------------------------


def renew(domain, office_user, conac_user, *, years, confirmed_at, voucher_no):
    (charge,), _ = services.submit_renewals([domain.pk], years=years, actor=office_user, today=confirmed_at.date())
    paid_for(domain.unit, office_user, conac_user, remitted_on=confirmed_at.date(), confirmed_at=confirmed_at,
             voucher_no=voucher_no)  # fmt: skip
    return refreshed(charge)


def test_a_renewal_extends_from_the_old_expiry_on_its_effective_day(unit, office_user, conac_user):
    domain = active_domain(unit, "续费生效", expires_on=datetime.date(2025, 11, 1))
    charge = renew(domain, office_user, conac_user, years=2, confirmed_at=at(2025, 10, 10), voucher_no="HK-R1")
    assert (charge.status, charge.effective_on) == (C.CONSUMED, datetime.date(2025, 10, 11))  # make-up Saturday

    assert jobs.run_all(datetime.date(2025, 10, 10))["renewed"] == 0
    assert refreshed(domain).expires_on == datetime.date(2025, 11, 1)
    assert "续费生效 1" in daily_jobs(datetime.date(2025, 10, 11))

    assert refreshed(domain).expires_on == datetime.date(2027, 11, 1)  # not from today
    assert domain.status == DomainStatus.ACTIVE
    charge.refresh_from_db()
    assert (charge.status, charge.previous_expiry) == (C.APPLIED, datetime.date(2025, 11, 1))
    assert charge.get_status_display() == "续费成功"
    notice = Notice.objects.get(template="domain_renewed", channel="sms")
    assert "到期时间延至2027-11-01" in notice.body

    before = snapshot()
    assert jobs.run_all(datetime.date(2025, 10, 11)) == NOTHING
    assert snapshot() == before
    # With the renewal done, the domain may be renewed again.
    created, _ = services.submit_renewals([domain.pk], years=1, actor=office_user, today=datetime.date(2025, 10, 12))
    assert len(created) == 1


def test_an_expired_domain_renewed_comes_back_when_its_new_expiry_is_ahead(unit, office_user, conac_user):
    lapsed = factories.make_domain(
        unit, "过期续费", status=DomainStatus.EXPIRED, years=1,
        registered_on=datetime.date(2024, 9, 1), expires_on=datetime.date(2025, 9, 1),
    )  # fmt: skip
    renew(lapsed, office_user, conac_user, years=1, confirmed_at=at(2025, 10, 13), voucher_no="HK-R2")

    assert jobs.run_all(datetime.date(2025, 10, 14))["renewed"] == 1

    lapsed.refresh_from_db()
    assert (lapsed.status, lapsed.expires_on) == (DomainStatus.ACTIVE, datetime.date(2026, 9, 1))


def test_an_expired_domain_renewed_too_little_is_refused_and_stays_expired(unit, office_user, conac_user):
    # A renewal that would still end in the past is refused when submitted (续费 shows why),
    # so no fee is charged for a domain that would stay 已过期.
    long_gone = factories.make_domain(
        unit, "久已过期", status=DomainStatus.EXPIRED, years=1,
        registered_on=datetime.date(2022, 1, 1), expires_on=datetime.date(2023, 1, 1),
    )  # fmt: skip
    created, skipped = services.submit_renewals(
        [long_gone.pk], years=1, actor=office_user, today=datetime.date(2025, 10, 13)
    )

    assert created == [] and "仍早于今天" in skipped[long_gone.full_name]
    jobs.run_all(datetime.date(2025, 10, 14))
    long_gone.refresh_from_db()
    assert (long_gone.status, long_gone.expires_on) == (DomainStatus.EXPIRED, datetime.date(2023, 1, 1))


def test_a_renewal_due_the_day_a_domain_would_expire_keeps_it_alive(unit, office_user, conac_user):
    domain = active_domain(unit, "当日续费", expires_on=datetime.date(2025, 10, 13))
    renew(domain, office_user, conac_user, years=1, confirmed_at=at(2025, 10, 13), voucher_no="HK-R4")

    result = jobs.run_all(datetime.date(2025, 10, 14))  # renewals run before expiry

    assert (result["renewed"], result["expired"]) == (1, 0)
    assert (refreshed(domain).status, domain.expires_on) == (DomainStatus.ACTIVE, datetime.date(2026, 10, 13))


# --- expiry --------------------------------------------------------------------------


def test_domains_past_their_expiry_become_expired_once(unit):
    past = active_domain(unit, "已到期", expires_on=datetime.date(2025, 10, 8))
    today = active_domain(unit, "今日到期", expires_on=datetime.date(2025, 10, 9))

    assert "过期 1" in daily_jobs(datetime.date(2025, 10, 9))

    assert refreshed(past).status == DomainStatus.EXPIRED
    assert refreshed(today).status == DomainStatus.ACTIVE  # still valid through its expiry day
    assert history_of(past).filter(action="域名过期", to_state="已过期").count() == 1
    before = snapshot()
    assert jobs.run_all(datetime.date(2025, 10, 9)) == NOTHING
    assert snapshot() == before


# --- reminders -----------------------------------------------------------------------


def test_expiry_reminders_30_7_and_1_days_before_each_once(unit, office_user):
    office_user.email = "haidian@example.cn"
    office_user.save()
    factories.make_staff("hd_no_email", "110108")  # staff without an email get nothing
    day = datetime.date(2025, 10, 9)
    in_30 = active_domain(unit, "提醒三十", expires_on=day + datetime.timedelta(days=30))
    in_7 = active_domain(unit, "提醒七", expires_on=day + datetime.timedelta(days=7))
    in_1 = active_domain(unit, "提醒一", expires_on=day + datetime.timedelta(days=1))
    active_domain(unit, "不提醒", expires_on=day + datetime.timedelta(days=2))
    factories.make_domain(unit, "已删不提醒", status=DomainStatus.DELETED, expires_on=day + datetime.timedelta(days=7))

    assert jobs.send_expiry_reminders(day) == 3

    reminders = Notice.objects.filter(template__startswith="expiry_reminder")
    assert reminders.count() == 9  # per domain: the unit's SMS and email, the office's email
    for domain in (in_30, in_7, in_1):
        mine = reminders.filter(key__contains=str(domain.public_id))
        assert {(n.channel, n.recipient) for n in mine} == {
            ("sms", unit.contact_mobile),
            ("email", unit.contact_email),
            ("email", "haidian@example.cn"),
        }
    assert "还有7天" in reminders.get(key__contains=str(in_7.public_id), channel="sms").body
    assert "1天后到期" in reminders.get(key__contains=str(in_1.public_id), recipient="haidian@example.cn").subject

    assert "到期提醒 0" in daily_jobs(day)  # a second run sends nothing again
    assert reminders.count() == 9

    # 23 days later the first domain is 7 days from expiry: its second reminder, once.
    later = day + datetime.timedelta(days=23)
    assert jobs.send_expiry_reminders(later) == 1
    assert reminders.filter(key__contains=str(in_30.public_id)).count() == 6
    assert jobs.send_expiry_reminders(later) == 0


# --- the command and the beat task ---------------------------------------------------


def test_the_command_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("daily_jobs", "--date", "2025-13-01")


def test_the_beat_task_runs_the_jobs_for_today(unit):
    today = datetime.date.today()
    domain = factories.make_domain(unit, "定时任务", status=DomainStatus.ACTIVATING, years=1)
    Charge.objects.create(
        kind=ChargeKind.REGISTRATION, domain=domain, unit=unit, office_id=unit.office_id, years=1,
        unit_price=Decimal("200.00"), amount=Decimal("200.00"), status=C.PENDING,
    )  # fmt: skip
    stale = active_domain(unit, "定时过期", expires_on=today - datetime.timedelta(days=3))

    tasks.run_daily_jobs.delay()

    assert refreshed(stale).status == DomainStatus.EXPIRED
    assert refreshed(domain).status == DomainStatus.ACTIVATING  # unpaid: never activated


def test_daily_jobs_refuses_a_future_date_unless_allowed(db):
    from django.utils import timezone

    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(CommandError, match="晚于今天"):
        call_command("daily_jobs", "--date", tomorrow.isoformat())
    out = io.StringIO()
    call_command("daily_jobs", "--date", tomorrow.isoformat(), "--allow-future", stdout=out)
    assert "域名生效" in out.getvalue()
    call_command("daily_jobs", "--date", timezone.localdate().isoformat(), stdout=out)
