"""The daily jobs, as of one date. Each is idempotent: a second run for the same date changes nothing.

Run by ``manage.py daily_jobs [--date]`` and by Celery beat every day.
"""

from collections import defaultdict

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from conac import audit, notices
from registry.dns import services as dns_services
from registry.models import Domain, DomainStatus, User, check_transition

from .models import C, Charge, ChargeKind, check_charge_transition

REMINDER_DAYS = (30, 7, 1)


def run_all(day=None):
    day = day or timezone.localdate()
    result = {
        "activated": activate_due_domains(day),
        "renewed": apply_due_renewals(day),
        "expired": expire_domains(day),
        "reminders": send_expiry_reminders(day),
    }
    # Expiry, renewals and the grace period change what the zones and forwarding hold.
    dns_services.refresh_after_daily_jobs()
    return result


def activate_due_domains(day):
    """待生效 → 注册成功 on the working day after 认款: 注册日期 that day, 到期时间 + years."""
    due = Q(
        kind=ChargeKind.REGISTRATION, status=C.CONSUMED, effective_on__lte=day, domain__status=DomainStatus.ACTIVATING
    )
    with transaction.atomic():
        _lock_domains_of(due)
        charges = list(
            Charge.objects.select_for_update(of=("self", "domain"))
            .filter(due)
            .select_related("domain", "domain__unit")
            .order_by("id")
        )
        domains = []
        for charge in charges:
            domain = charge.domain
            check_transition(domain.status, DomainStatus.ACTIVE, "system")
            domain.status = DomainStatus.ACTIVE
            domain.registered_on = charge.effective_on
            domain.expires_on = charge.effective_on + relativedelta(years=charge.years)
            domains.append(domain)
        _update_grouped(Domain, domains, ["status", "registered_on", "expires_on"], updated_at=timezone.now())
        audit.record_many(domains, "注册成功", actor=None, from_state="待生效", to_state="注册成功")
        notices.queue_many(
            "domain_active",
            (
                {
                    "key": f"domain:{domain.public_id}:active",
                    "context": {"unit": domain.unit, "domain": domain},
                    "sms_to": domain.unit.contact_mobile,
                    "email_to": domain.unit.contact_email,
                }
                for domain in domains
            ),
        )
    return len(domains)


def apply_due_renewals(day):
    """A consumed renewal takes effect: 到期时间 extended from the old expiry date (续费成功)."""
    due = Q(
        kind=ChargeKind.RENEWAL,
        status=C.CONSUMED,
        effective_on__lte=day,
        domain__status__in=[DomainStatus.ACTIVE, DomainStatus.EXPIRED],
    )
    with transaction.atomic():
        _lock_domains_of(due)
        charges = list(
            Charge.objects.select_for_update(of=("self", "domain"))
            .filter(due)
            .select_related("domain", "domain__unit")
            .order_by("id")
        )
        now = timezone.now()
        domains = []
        for charge in charges:
            domain = charge.domain
            charge.previous_expiry = domain.expires_on
            domain.expires_on = domain.expires_on + relativedelta(years=charge.years)
            if domain.status == DomainStatus.EXPIRED and domain.expires_on >= day:
                check_transition(domain.status, DomainStatus.ACTIVE, "system")
                domain.status = DomainStatus.ACTIVE
            check_charge_transition(charge.status, C.APPLIED, "system")
            charge.status = C.APPLIED
            charge.applied_at = now
            domains.append(domain)
        _update_grouped(Charge, charges, ["status", "applied_at", "previous_expiry"])
        _update_grouped(Domain, domains, ["status", "expires_on"], updated_at=now)
        audit.record_many(
            charges, "续费成功", actor=None, from_state="已认款", to_state="续费成功",
            data=lambda c: {"from": c.previous_expiry.isoformat(), "years": c.years},
        )  # fmt: skip
        notices.queue_many(
            "domain_renewed",
            (
                {
                    "key": f"charge:{charge.public_id}:renewed",
                    "context": {"unit": charge.domain.unit, "domain": charge.domain, "charge": charge},
                    "sms_to": charge.domain.unit.contact_mobile,
                    "email_to": charge.domain.unit.contact_email,
                }
                for charge in charges
            ),
        )
    return len(charges)


def expire_domains(day):
    """注册成功 domains past their 到期时间 become 已过期."""
    with transaction.atomic():
        domains = list(
            Domain.objects.select_for_update().filter(status=DomainStatus.ACTIVE, expires_on__lt=day).order_by("id")
        )
        check_transition(DomainStatus.ACTIVE, DomainStatus.EXPIRED, "system")
        Domain.objects.filter(pk__in=[d.pk for d in domains]).update(
            status=DomainStatus.EXPIRED, updated_at=timezone.now()
        )
        audit.record_many(domains, "域名过期", actor=None, from_state="注册成功", to_state="已过期")
    return len(domains)


def send_expiry_reminders(day):
    """Remind the unit and its office 30, 7 and 1 days before 到期时间 (once each: the notice key)."""
    sent = 0
    targets = [day + relativedelta(days=n) for n in REMINDER_DAYS]
    domains = (
        Domain.objects.filter(status=DomainStatus.ACTIVE, expires_on__in=targets)
        .select_related("unit", "office")
        .order_by("id")
    )
    office_emails = {}
    for domain in domains.iterator(chunk_size=2000):
        days_left = (domain.expires_on - day).days
        unit = domain.unit
        context = {"unit": unit, "domain": domain, "days_left": days_left, "office": domain.office}
        key = f"domain:{domain.public_id}:expiry:{domain.expires_on.isoformat()}:{days_left}"
        with transaction.atomic():
            queued = notices.queue(
                "expiry_reminder", key=key, context=context, sms_to=unit.contact_mobile, email_to=unit.contact_email
            )
            if domain.office_id not in office_emails:
                office_emails[domain.office_id] = list(
                    User.objects.filter(role=User.Role.OFFICE, office_id=domain.office_id, is_active=True)
                    .exclude(email="")
                    .values_list("email", flat=True)
                )
            for email in office_emails[domain.office_id]:
                queued += notices.queue("expiry_reminder_office", key=key, context=context, email_to=email)
        # A second run for the same day finds every notice already queued: nothing new to count.
        if queued:
            sent += 1
    return sent


def _lock_domains_of(due):
    """Lock the domains of the due charges first, in one order: 删除域名 locks a domain and then
    its charges (returning a consumed one to the balance), and the job's own statement locks
    each charge before its domain, so without this the two could deadlock."""
    list(
        Domain.objects.select_for_update()
        .filter(pk__in=Charge.objects.filter(due).values("domain_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _update_grouped(model, objects, fields, **same_for_all):
    """Write ``fields`` of ``objects`` with one UPDATE per distinct set of values, not per row.

    A day's thousands of activations or renewals share a handful of dates, and a CASE per
    row (``bulk_update``) grows with the square of the batch.
    """
    groups = defaultdict(list)
    for obj in objects:
        groups[tuple(getattr(obj, field) for field in fields)].append(obj.pk)
    for values, pks in groups.items():
        model.objects.filter(pk__in=pks).update(**dict(zip(fields, values, strict=True)), **same_for_all)
