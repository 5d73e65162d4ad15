"""Demo money in every state, made through the real services (收费, 汇款, 认款, jobs, 续费, 删除域名).

After ``seed_demo``:
- 海淀区: two domains 注册成功 (marked, remitted, confirmed, activated), a renewal 待缴费 on one
  of them, a domain deleted after 收费 (待退费), a new registration 待缴费, a balance of 200 元;
- 北京市: one domain 待生效 (confirmed today), one 已收费 that the balance did not cover;
- 上海市: one domain 已收费 and its remittance 待认款;
- 中央编办: a 10-year registration 待缴费.
"""

import datetime

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from registry.domains import services as domain_services
from registry.models import Domain, Unit, User
from registry.organisations.demo import demo_units
from review import services as review

from . import jobs, services
from .models import C, Charge, FeeMarking, FeeSchedule, Remittance

FEE_SCHEDULE = [(".政务", "200.00", datetime.date(2020, 1, 1)), (".公益", "200.00", datetime.date(2020, 1, 1))]

# (unit username, label, years): applied for and approved at both tiers → 待缴费.
EXTRA_DOMAINS = [
    ("hd_inst", "海淀区示范少儿图书馆", 2),
    ("hd_social", "海淀区示范社工服务", 1),
    ("bj_inst", "北京市示范数据中心", 1),
]
LATE_DOMAINS = [("hd_inst", "海淀区示范科技馆", 1)]  # approved after the 收费: stays 待缴费

CONAC_ADMIN_PERMISSIONS = [
    "view_feeschedule",
    "add_feeschedule",
    "change_feeschedule",
    "view_charge",
    "view_feemarking",
    "view_remittance",
    "view_officeaccount",
    "view_ledgerentry",
    "view_refund",
]


@transaction.atomic
def seed_fee_schedule():
    """收费标准 rows (200.00 元/年 for both suffixes), and CONAC's right to keep them in the admin."""
    created = 0
    for suffix, price, valid_from in FEE_SCHEDULE:
        _, made = FeeSchedule.objects.get_or_create(
            suffix=suffix, valid_from=valid_from, defaults={"price_per_year": price}
        )
        created += made
    conac = User.objects.filter(username="conac").first()
    if conac is not None:
        conac.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="billing", codename__in=CONAC_ADMIN_PERMISSIONS)
        )
    return created


def seed_billing(now=None):
    """The demo money; skipped when any demo unit's charge is already marked. Returns rows created."""
    units = {u.account.username: u for u in demo_units().select_related("account", "office")}
    if not units or Charge.objects.filter(unit__in=units.values(), marking__isnull=False).exists():
        return 0
    created = seed_fee_schedule()
    now = now or timezone.now()
    earlier = now - datetime.timedelta(days=20)
    year = timezone.localtime(now).year  # invoice numbers of this year
    conac = User.objects.get(username="conac")
    staff = {
        office_id: User.objects.filter(role=User.Role.OFFICE, office_id=office_id).order_by("id").first()
        for office_id in {u.office_id for u in units.values()}
    }

    def approved(username, label, years):
        unit = units[username]
        domain = domain_services.submit_domain_application(
            unit, label=label, suffix=_suffix(unit), years=years, actor=unit.account
        )
        review.approve(domain, actor=staff[unit.office_id])
        review.approve(domain, actor=conac)
        return domain

    def mark(username, invoice_no, when):
        unit = units[username]
        charges = list(services.payable_charges(unit, unit.office))
        if not charges:
            return None
        marking = services.mark_fees_paid(
            unit,
            charge_ids=[c.pk for c in charges],
            invoice_no=invoice_no,
            amount=sum(c.amount for c in charges),
            actor=staff[unit.office_id],
            now=when,
        )
        # The demo's history is backdated; auto_now_add would stamp today on the record itself.
        FeeMarking.objects.filter(pk=marking.pk).update(marked_at=when)
        return marking

    def remit(username, amount, voucher_no, note, when):
        office = units[username].office
        remittance = services.register_remittance(
            office,
            amount=amount,
            remitted_on=timezone.localtime(when).date(),
            voucher_no=voucher_no,
            note=note,
            actor=staff[office.pk],
        )
        Remittance.objects.filter(pk=remittance.pk).update(registered_at=when)
        return remittance

    with transaction.atomic():
        extra = {row[1]: approved(*row) for row in EXTRA_DOMAINS}
        created += len(extra)

        # 海淀区, three weeks ago: 收费 → 汇款 → 认款 → 注册成功 the next working day.
        for username, invoice_no in [("hd_organ", f"HD{year}0001"), ("hd_inst", f"HD{year}0002")]:
            created += bool(mark(username, invoice_no, earlier))
        first = remit("hd_organ", "1200.00", "HD-HK-0001", "第一批域名注册费", earlier + datetime.timedelta(days=1))
        summary = services.confirm_remittance(first, actor=conac, now=earlier + datetime.timedelta(days=2))
        created += 1 + jobs.activate_due_domains(summary["effective_on"])

        # A renewal of the first domain, submitted and waiting for its fee.
        street = Domain.objects.filter(unit=units["hd_organ"], label="海淀区示范街道办事处").first()
        if street is not None:
            renewals, _ = services.submit_renewals([street.pk], years=1, actor=staff[units["hd_organ"].office_id])
            created += len(renewals)

        # Deleted after 收费, before 认款: the fee is owed back (待退费).
        created += bool(mark("hd_social", f"HD{year}0003", earlier + datetime.timedelta(days=3)))
        domain_services.delete_domain(
            extra["海淀区示范社工服务"],
            reason="单位撤回申请，已收费用待退还",
            actor=staff[units["hd_social"].office_id],
        )
        for row in LATE_DOMAINS:
            approved(*row)
            created += 1

        # 北京市, today: two markings, one remittance that covers only the older → 待生效 and 已收费.
        created += bool(mark("bj_organ", f"BJ{year}0001", now - datetime.timedelta(hours=2)))
        created += bool(mark("bj_inst", f"BJ{year}0002", now - datetime.timedelta(hours=1)))
        second = remit("bj_organ", "1000.00", "BJ-HK-0001", "域名注册费", now)
        services.confirm_remittance(second, actor=conac, now=now)
        created += 1

        # 上海市: marked and remitted, the remittance waiting for 认款.
        created += bool(mark("sh_inst", f"SH{year}0001", now))
        remit("sh_inst", "200.00", "SH-HK-0001", "上海市示范档案馆域名注册费", now)
        created += 1
    return created


def demo_summary():
    """How many demo charges are in each state (for the command's output)."""
    units = Unit.objects.filter(pk__in=demo_units().values("pk"))
    labels = dict(C.choices)
    counts = {}
    for status in Charge.objects.filter(unit__in=units).values_list("status", flat=True):
        counts[labels[status]] = counts.get(labels[status], 0) + 1
    return "、".join(f"{label} {n}" for label, n in counts.items())


def _suffix(unit):
    from registry.domains.names import suffix_for_kind

    return suffix_for_kind(unit.kind)


def seed_active_domains(specs, *, when=None):
    """Take each (unit username, label) through the whole paid path to 注册成功, as the badge demo needs.

    Applied, approved at both tiers, marked paid, remitted and confirmed ``when`` (default 15 days
    ago), then activated by the daily job; names that already exist are left alone.
    """
    units = {u.account.username: u for u in demo_units().select_related("account", "office")}
    when = when or timezone.now() - datetime.timedelta(days=15)
    conac = User.objects.get(username="conac")
    made = []
    with transaction.atomic():
        for username, label in specs:
            unit = units[username]
            if Domain.objects.filter(label=label, suffix=_suffix(unit)).exists():
                continue
            staff = User.objects.filter(role=User.Role.OFFICE, office_id=unit.office_id).order_by("id").first()
            domain = domain_services.submit_domain_application(
                unit, label=label, suffix=_suffix(unit), years=1, actor=unit.account, now=when
            )
            review.approve(domain, actor=staff)
            review.approve(domain, actor=conac)
            charge = Charge.objects.get(domain=domain)
            services.mark_fees_paid(
                unit,
                charge_ids=[charge.pk],
                invoice_no=f"DEMO{domain.pk:06d}",
                amount=charge.amount,
                actor=staff,
                now=when,
            )
            remittance = services.register_remittance(
                unit.office,
                amount=charge.amount,
                remitted_on=timezone.localtime(when).date(),
                voucher_no=f"DEMO-HK-{domain.pk:06d}",
                note=f"{domain.full_name}注册费",
                actor=staff,
            )
            summary = services.confirm_remittance(remittance, actor=conac, now=when)
            jobs.activate_due_domains(summary["effective_on"])
            made.append(domain)
    return made
