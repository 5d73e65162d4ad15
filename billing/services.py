"""Money services: charges, 消费变更, 确认收费, 登记汇款, 认款 and its consumption, 退费, 续费.

Each is one transaction that locks what it changes, checks the state, writes the
change and its audit entries, and queues notices on commit. Bulk steps (thousands of
renewals, an 认款 that consumes thousands of charges) run a fixed number of SQL
statements: one lock, one insert or update per table.
"""

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from conac import audit, notices
from conac.workdays import add_workdays
from registry.models import Domain, DomainStatus, User, check_transition

from .models import (
    C,
    Charge,
    ChargeKind,
    FeeMarking,
    FeeSchedule,
    LedgerEntry,
    OfficeAccount,
    Refund,
    Remittance,
    RemittanceStatus,
    check_charge_transition,
)
from .money import ZERO, yuan, yuan_text

MAX_YEARS_AHEAD = 10  # a registration may not reach beyond 10 years from today
MAX_AMOUNT = yuan("100000000")  # far below what DecimalField(12, 2) and the balance can hold


class BillingError(Exception):
    """A money operation the rules refuse; the message is shown to the user."""


# --- Prices and charges --------------------------------------------------------------


def price_for(suffix, on_date=None):
    """The yearly fee of ``suffix`` on ``on_date``: the schedule CONAC keeps, else the configured default."""
    on_date = on_date or timezone.localdate()
    row = (
        FeeSchedule.objects.filter(suffix=suffix, valid_from__lte=on_date)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on_date))
        .order_by("-valid_from")
        .first()
    )
    return yuan(row.price_per_year if row else settings.DEFAULT_FEE_PER_YEAR)


def create_registration_charge(domain, actor):
    """CONAC approved: the domain owes its registration fee (a registry hook, inside that transaction)."""
    price = price_for(domain.suffix)
    charge = Charge.objects.create(
        kind=ChargeKind.REGISTRATION,
        domain=domain,
        unit_id=domain.unit_id,
        office_id=domain.office_id,
        years=domain.years,
        unit_price=price,
        amount=yuan(price * domain.years),
        created_by=actor,
    )
    audit.record(charge, "生成注册消费", actor=actor, to_state=charge.get_status_display(), data=_money(charge))
    return charge


def settle_charges_of_deleted_domain(domain, actor, reason):
    """删除域名 (a registry hook): unpaid charges are cancelled; marked-but-unconsumed ones are owed back;
    consumed ones whose period never started are returned to the office's balance and owed back.

    Runs inside 删除域名's transaction, after it locked the domain, and takes the account last:
    认款 too locks the domains it will touch before the account.
    """
    now = timezone.now()
    today = timezone.localdate(domain.deleted_at or now)
    charges = list(
        Charge.objects.select_for_update()
        .filter(domain=domain, status__in=[C.PENDING, C.MARKED, C.CONSUMED, C.APPLIED])
        .order_by("id")
    )
    returned = [c for c in charges if c.status in (C.CONSUMED, C.APPLIED) and _period_not_started(c, domain, today)]
    for charge in charges:
        if charge.status in (C.CONSUMED, C.APPLIED) and charge not in returned:
            continue  # spent on a period that has started: the money stays spent
        before = charge.get_status_display()
        after = C.CANCELLED if charge.status == C.PENDING else C.REFUND_PENDING
        check_charge_transition(charge.status, after, "office")
        charge.status = after
        charge.cancelled_at = now
        charge.save(update_fields=["status", "cancelled_at"])
        audit.record(
            charge, "删除域名", actor=actor, from_state=before, to_state=charge.get_status_display(), reason=reason
        )
    if returned:
        _return_to_balance(returned, actor=actor)


def _period_not_started(charge, domain, today):
    """Whether the years a consumed charge paid for had not begun when the domain was deleted.

    A registration's years begin when the domain goes live (注册成功); a renewal's the day
    after the 到期时间 it extends (an unapplied renewal has extended nothing yet).
    """
    if charge.kind == ChargeKind.REGISTRATION:
        return domain.registered_on is None
    if charge.status == C.CONSUMED:
        return True
    return charge.previous_expiry is not None and charge.previous_expiry >= today


def _return_to_balance(charges, *, actor):
    """退回: credit each consumed charge back to the ledger of the office it was debited from,
    so that office's 已认款 = 已消费 + 余额 holds."""
    by_office = {}
    for charge in charges:
        # A unit that moved office leaves charges already paid in the old office's books.
        by_office.setdefault(charge.office_id, []).append(charge)
    entries = []
    for office_id in sorted(by_office):  # one order for every locker of several accounts
        OfficeAccount.objects.get_or_create(office_id=office_id)
        account = OfficeAccount.objects.select_for_update().get(office_id=office_id)
        balance = account.balance
        for charge in by_office[office_id]:
            balance += charge.amount
            entries.append(
                LedgerEntry(
                    office_id=office_id,
                    kind=LedgerEntry.Kind.RETURN,
                    amount=charge.amount,
                    balance_after=balance,
                    charge=charge,
                )
            )
        account.balance = balance
        account.save(update_fields=["balance", "updated_at"])
    LedgerEntry.objects.bulk_create(entries)
    audit.record_many(charges, "消费退回", actor=actor, data=lambda c: {"amount": str(c.amount), "office": c.office_id})


def move_unpaid_charges(unit, old_office_id, actor):
    """The unit now belongs to another office (a registry hook): what it has not paid, it pays there.

    Charges already marked or consumed stay in the ledger of the office that collected them.
    """
    moved = list(Charge.objects.select_for_update().filter(unit=unit, office_id=old_office_id, status=C.PENDING))
    Charge.objects.filter(pk__in=[c.pk for c in moved]).update(office_id=unit.office_id)
    audit.record_many(
        moved, "单位变更同级编办", actor=actor, data={"from_office": old_office_id, "to_office": unit.office_id}
    )


def change_charge_years(charge, *, years, actor, today=None):
    """消费变更: change the years of an unpaid charge and recompute its amount."""
    today = today or timezone.localdate()
    with transaction.atomic():
        # Domain before charge, the order 删除域名 locks them in: the other way round two
        # offices' clicks could deadlock.
        Domain.objects.select_for_update().filter(pk=charge.domain_id).first()
        charge = Charge.objects.select_for_update().select_related("domain").get(pk=charge.pk)
        _require_office(actor, charge.office_id)
        if charge.status != C.PENDING:
            raise BillingError(f"只有待缴费的消费可以变更年限（当前状态：{charge.get_status_display()}）。")
        _check_years_ahead(charge.kind, charge.domain, years, today)
        before = {"years": charge.years, "amount": str(charge.amount)}
        charge.years = years
        charge.amount = yuan(charge.unit_price * years)
        charge.save(update_fields=["years", "amount"])
        if charge.kind == ChargeKind.REGISTRATION:
            Domain.objects.filter(pk=charge.domain_id).update(years=years, updated_at=timezone.now())
        audit.record(
            charge,
            "消费变更",
            actor=actor,
            data={"before": before, "after": {"years": years, "amount": str(charge.amount)}},
        )
    return charge


def _check_years_ahead(kind, domain, years, today):
    if not isinstance(years, int) or not 1 <= years <= 10:
        raise BillingError("年限须为1至10年。")
    if kind == ChargeKind.RENEWAL:
        latest = today + relativedelta(years=MAX_YEARS_AHEAD)
        if domain.expires_on + relativedelta(years=years) > latest:
            allowed = max(0, relativedelta(latest, domain.expires_on).years)
            raise BillingError(
                f"“{domain.full_name}”到期时间为{domain.expires_on:%Y-%m-%d}，续费{years}年将超过自今日起10年的上限"
                f"（最多可续{allowed}年）。"
            )


# --- 确认收费 -----------------------------------------------------------------------


def payable_charges(unit, office):
    """What the unit owes the office now (blank until its domains have passed review)."""
    return Charge.objects.filter(unit=unit, office=office, status=C.PENDING).select_related("domain").order_by("id")


def mark_fees_paid(unit, *, charge_ids, invoice_no, amount, actor, now=None):
    """确认收费: the office received the unit's money; the charges (and domains) become 已收费.

    ``charge_ids`` are the charges the staff saw: if another person changed them since,
    nothing is marked and the staff check again. Each charge is marked only once.
    """
    invoice_no = (invoice_no or "").strip()
    if not invoice_no:
        raise BillingError("请填写发票号码。")
    try:
        wanted_ids = {int(pk) for pk in charge_ids}
    except (TypeError, ValueError):
        raise BillingError("待缴费信息有误，请刷新后重新核对。") from None
    amount = yuan(amount)
    now = now or timezone.now()
    with transaction.atomic():
        _require_office(actor, unit.office_id)
        # Domain before charge, the order 删除域名 locks them in (else the two can deadlock).
        list(
            Domain.objects.select_for_update()
            .filter(unit=unit, office_id=actor.office_id, status=DomainStatus.AWAITING_PAYMENT)
            .values_list("pk", flat=True)
        )
        charges = list(
            Charge.objects.select_for_update()
            .filter(unit=unit, office_id=actor.office_id, status=C.PENDING)
            .select_related("domain")
            .order_by("id")
        )
        if not charges:
            raise BillingError("该单位没有待缴费的消费（已收费或尚未审核通过）。")
        if {c.pk for c in charges} != wanted_ids:
            raise BillingError("待缴费信息已发生变化（可能已由他人收费或变更），请刷新后重新核对。")
        total = yuan(sum((c.amount for c in charges), ZERO))
        if amount != total:
            raise BillingError(f"收费金额（{yuan_text(amount)}）与应收金额（{yuan_text(total)}）不符，请核对。")
        marking = FeeMarking.objects.create(
            office_id=actor.office_id, unit=unit, invoice_no=invoice_no, amount=total, marked_by=actor, marked_at=now
        )
        check_charge_transition(C.PENDING, C.MARKED, "office")
        check_transition(DomainStatus.AWAITING_PAYMENT, DomainStatus.FEE_MARKED, "office")
        Charge.objects.filter(pk__in=[c.pk for c in charges]).update(status=C.MARKED, marking=marking, marked_at=now)
        registration_domains = [c.domain for c in charges if c.kind == ChargeKind.REGISTRATION]
        moved = Domain.objects.filter(
            pk__in=[d.pk for d in registration_domains], status=DomainStatus.AWAITING_PAYMENT
        ).update(status=DomainStatus.FEE_MARKED, updated_at=now)
        if moved != len(registration_domains):
            raise BillingError("部分域名状态已变化，请刷新后重试。")
        audit.record(marking, "确认收费", actor=actor, data={"invoice_no": invoice_no, "amount": str(total)})
        audit.record_many(
            charges, "确认收费", actor=actor, from_state="待缴费", to_state="已收费", data={"invoice_no": invoice_no}
        )
        audit.record_many(
            registration_domains, "确认收费", actor=actor, from_state="待缴费", to_state="已收费",
            data={"invoice_no": invoice_no},
        )  # fmt: skip
    return marking


# --- 汇款 and 认款 ------------------------------------------------------------------


def register_remittance(office, *, amount, remitted_on, voucher_no, note="", actor, today=None):
    """登记汇款: the office records money it sent to CONAC → 待认款."""
    today = today or timezone.localdate()
    _require_office(actor, office.pk)
    amount = yuan(amount)
    if amount <= 0:
        raise BillingError("汇款金额须大于0。")
    if remitted_on > today:
        raise BillingError("汇款日期不能晚于今天。")
    voucher_no = (voucher_no or "").strip()
    if not voucher_no:
        raise BillingError("请填写汇款凭证号。")
    if amount >= MAX_AMOUNT:
        raise BillingError("汇款金额超出范围，请核对。")
    try:
        with transaction.atomic():
            remittance = Remittance.objects.create(
                office=office, amount=amount, remitted_on=remitted_on, voucher_no=voucher_no,
                note=(note or "").strip(), registered_by=actor,
            )  # fmt: skip
            audit.record(remittance, "登记汇款", actor=actor, to_state="待认款", data={"amount": str(amount)})
    except IntegrityError:
        raise BillingError(f"汇款凭证号“{voucher_no}”已登记过，请勿重复登记。") from None
    return remittance


def consumable_count(amounts, balance):
    """How many of the 已收费 ``amounts`` (in the order 认款 consumes them, oldest marking first) a
    ``balance`` pays: strictly in order, stopping at the first that does not fit; later charges
    wait for the next 认款. The one rule for 认款 itself and for the question asked before it."""
    count = 0
    for amount in amounts:
        if amount > balance:
            break
        balance -= amount
        count += 1
    return count


def confirm_remittance(remittance, *, actor, now=None):
    """认款: CONAC confirms the money arrived. In one transaction the system

    1. credits the office's ledger with the remittance;
    2. consumes the office's 已收费 charges, oldest marking first, while the balance
       covers each one (the manual: 系统自动为已标记收费的单位消费注册);
    3. sets the consumed charges' effective day to the next working day: registrations
       make their domains 待生效, renewals wait for that day to extend the expiry.
    Returns a summary of what was consumed and what remains unpaid.
    """
    if getattr(actor, "role", None) != User.Role.CONAC:
        raise BillingError("只有CONAC工作人员可以认款。")
    now = now or timezone.now()
    effective_on = add_workdays(timezone.localtime(now).date(), 1)
    with transaction.atomic():
        remittance = Remittance.objects.select_for_update().get(pk=remittance.pk)
        if remittance.status != RemittanceStatus.PENDING:
            raise BillingError(
                f"该汇款已于{timezone.localtime(remittance.confirmed_at):%Y-%m-%d %H:%M}认款，不能重复认款。"
            )
        # Domains before the account: 删除域名 locks its domain first and then, returning a
        # consumed charge to the balance, the account; the other way round the two can deadlock.
        # (Every domain with a marked charge: registrations and renewals alike.)
        list(
            Domain.objects.select_for_update()
            .filter(pk__in=Charge.objects.filter(office_id=remittance.office_id, status=C.MARKED).values("domain_id"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        # The office's account row serialises every 认款 (and 退回) of that office.
        OfficeAccount.objects.get_or_create(office_id=remittance.office_id)
        account = OfficeAccount.objects.select_for_update().get(office_id=remittance.office_id)

        balance = account.balance + remittance.amount
        entries = [
            LedgerEntry(
                office_id=account.office_id,
                kind=LedgerEntry.Kind.CREDIT,
                amount=remittance.amount,
                balance_after=balance,
                remittance=remittance,
            )  # fmt: skip
        ]
        marked = list(
            Charge.objects.select_for_update(of=("self",))
            .filter(office_id=account.office_id, status=C.MARKED)
            .select_related("domain")  # the audit entries name each domain: not a query per charge
            .order_by("marked_at", "id")
        )
        consumed = marked[: consumable_count([c.amount for c in marked], balance)]
        for charge in consumed:
            balance -= charge.amount
            entries.append(
                LedgerEntry(
                    office_id=account.office_id,
                    kind=LedgerEntry.Kind.DEBIT,
                    amount=charge.amount,
                    balance_after=balance,
                    charge=charge,
                )  # fmt: skip
            )
        LedgerEntry.objects.bulk_create(entries)
        account.balance = balance
        account.save(update_fields=["balance", "updated_at"])
        remittance.status = RemittanceStatus.CONFIRMED
        remittance.confirmed_by = actor
        remittance.confirmed_at = now
        remittance.save(update_fields=["status", "confirmed_by", "confirmed_at"])

        check_charge_transition(C.MARKED, C.CONSUMED, "conac")
        check_transition(DomainStatus.FEE_MARKED, DomainStatus.ACTIVATING, "conac")
        consumed_ids = [c.pk for c in consumed]
        Charge.objects.filter(pk__in=consumed_ids).update(
            status=C.CONSUMED, remittance=remittance, consumed_at=now, effective_on=effective_on
        )
        registration_domain_ids = [c.domain_id for c in consumed if c.kind == ChargeKind.REGISTRATION]
        Domain.objects.filter(pk__in=registration_domain_ids, status=DomainStatus.FEE_MARKED).update(
            status=DomainStatus.ACTIVATING, updated_at=now
        )
        audit.record(
            remittance, "认款", actor=actor, from_state="待认款", to_state="已认款",
            data={"amount": str(remittance.amount), "consumed": len(consumed), "balance": str(balance)},
        )  # fmt: skip
        audit.record_many(
            consumed, "认款消费", actor=actor, from_state="已收费", to_state="已认款",
            data={"remittance": remittance.voucher_no, "effective_on": effective_on.isoformat()},
        )  # fmt: skip
        unpaid = Charge.objects.filter(office_id=account.office_id, status=C.MARKED).aggregate(
            n=Sum(1), total=Sum("amount")
        )
        summary = {
            "consumed_count": len(consumed),
            "consumed_total": yuan(sum((c.amount for c in consumed), ZERO)),
            "unpaid_count": unpaid["n"] or 0,
            "unpaid_total": yuan(unpaid["total"] or ZERO),
            "balance": balance,
            "effective_on": effective_on,
        }
        _notify_office_of_confirmation(remittance, summary)
    return summary


def _notify_office_of_confirmation(remittance, summary):
    office = remittance.office
    for email in (
        User.objects.filter(role=User.Role.OFFICE, office=office, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    ):
        notices.queue(
            "remittance_confirmed",
            key=f"remittance:{remittance.public_id}:confirmed",
            context={"office": office, "remittance": remittance, **summary},
            email_to=email,
        )


# --- 退费 ------------------------------------------------------------------------------


def refundable_charges(office, unit=None):
    """待退费: what the office owes back to units (domains deleted after 收费), oldest first."""
    charges = Charge.objects.filter(office=office, status=C.REFUND_PENDING)
    if unit is not None:
        charges = charges.filter(unit=unit)
    return charges.select_related("domain", "unit", "marking").order_by("cancelled_at", "id")


def record_refund(charge, *, refunded_on, voucher_no, amount, actor, today=None, now=None):
    """退费: the office paid a 待退费 charge back to its unit (退费日期, 退费凭证号, 退费金额 = the charge).

    The charge becomes 已退费. A second click with the same voucher finds the refund already
    recorded and returns it; the same charge refunded under another voucher, or a voucher
    already used for another refund of the office, is refused.
    """
    today = today or timezone.localdate()
    now = now or timezone.now()
    voucher_no = (voucher_no or "").strip()
    if not voucher_no:
        raise BillingError("请填写退费凭证号。")
    if refunded_on is None:
        raise BillingError("请填写退费日期。")
    if refunded_on > today:
        raise BillingError("退费日期不能晚于今天。")
    amount = yuan(amount)
    with transaction.atomic():
        charge = Charge.objects.select_for_update().select_related("domain").get(pk=charge.pk)
        _require_office(actor, charge.office_id)
        if charge.status == C.REFUNDED:
            refund = Refund.objects.get(charge=charge)
            if refund.voucher_no == voucher_no and refund.amount == amount:
                return refund  # the same click again: already done
            raise BillingError(
                f"“{charge.domain.full_name}”的消费已于{refund.refunded_on:%Y-%m-%d}退费"
                f"（退费凭证号 {refund.voucher_no}），不能重复退费。"
            )
        if charge.status != C.REFUND_PENDING:
            raise BillingError(f"只有待退费的消费可以退费（当前状态：{charge.get_status_display()}）。")
        if charge.marked_at and refunded_on < timezone.localdate(charge.marked_at):
            raise BillingError(f"退费日期不能早于收费日期（{timezone.localdate(charge.marked_at):%Y-%m-%d}）。")
        if amount != charge.amount:
            raise BillingError(
                f"退费金额（{yuan_text(amount)}）须与消费金额（{yuan_text(charge.amount)}）一致，请核对。"
            )
        try:
            # The voucher's uniqueness per office is the database's to decide (two clerks, one voucher).
            refund = Refund.objects.create(
                charge=charge, office_id=charge.office_id, unit_id=charge.unit_id, amount=charge.amount,
                refunded_on=refunded_on, voucher_no=voucher_no, recorded_by=actor, recorded_at=now,
            )  # fmt: skip
        except IntegrityError:
            raise BillingError(f"退费凭证号“{voucher_no}”已登记过，请核对。") from None
        check_charge_transition(charge.status, C.REFUNDED, "office")
        charge.status = C.REFUNDED
        charge.save(update_fields=["status"])
        audit.record(
            charge, "退费", actor=actor, from_state="待退费", to_state="已退费",
            data={"voucher_no": voucher_no, "refunded_on": refunded_on.isoformat(), "amount": str(charge.amount)},
        )  # fmt: skip
    return refund


# --- 续费 ------------------------------------------------------------------------------


RENEWABLE_STATES = [DomainStatus.ACTIVE, DomainStatus.EXPIRED]


def renewed_expiry(domain, years):
    """到期时间 after a renewal of ``years``: counted from the old 到期时间, as the renewal applies."""
    return domain.expires_on + relativedelta(years=years)


def submit_renewals(domain_ids, *, years, actor, today=None):
    """提交续费申请: renewal charges (待缴费) for the ticked domains of the actor's office.

    Domains with an open renewal, or not 注册成功/已过期, or not the office's, are skipped
    and reported. Runs a fixed number of statements however many domains are ticked.
    Returns (created charges, {domain name: reason skipped}).
    """
    today = today or timezone.localdate()
    if getattr(actor, "role", None) != User.Role.OFFICE:
        raise BillingError("只有编办工作人员可以提交续费申请。")
    if not isinstance(years, int) or not 1 <= years <= 10:
        raise BillingError("续费年限须为1至10年。")
    with transaction.atomic():
        domains = list(
            Domain.objects.select_for_update().filter(pk__in=list(domain_ids), office_id=actor.office_id).order_by("id")
        )
        open_renewals = set(
            Charge.objects.filter(
                domain_id__in=[d.pk for d in domains],
                kind=ChargeKind.RENEWAL,
                status__in=[C.PENDING, C.MARKED, C.CONSUMED],
            ).values_list("domain_id", flat=True)
        )
        prices = {}
        latest = today + relativedelta(years=MAX_YEARS_AHEAD)
        to_create, skipped = [], {}
        for domain in domains:
            if domain.status not in RENEWABLE_STATES:
                skipped[domain.full_name] = f"状态为“{domain.get_status_display()}”，不能续费"
            elif domain.pk in open_renewals:
                skipped[domain.full_name] = "已有未完成的续费申请"
            elif renewed_expiry(domain, years) > latest:
                skipped[domain.full_name] = f"续费{years}年将超过自今日起10年的上限"
            elif renewed_expiry(domain, years) < today:
                # Paid for, the domain would still be 已过期: refuse rather than charge for nothing.
                skipped[domain.full_name] = (
                    f"续费{years}年后到期时间为{renewed_expiry(domain, years):%Y-%m-%d}，仍早于今天，请选择更长的续费年限"
                )
            else:
                if domain.suffix not in prices:
                    prices[domain.suffix] = price_for(domain.suffix, today)
                price = prices[domain.suffix]
                to_create.append(
                    Charge(
                        kind=ChargeKind.RENEWAL,
                        domain=domain,
                        unit_id=domain.unit_id,
                        office_id=domain.office_id,
                        years=years,
                        unit_price=price,
                        amount=yuan(price * years),
                        created_by=actor,
                    )  # fmt: skip
                )
        missing = len(set(domain_ids)) - len(domains)
        if missing:
            skipped[f"其他{missing}个域名"] = "不存在或不属于本编办管理"
        try:
            created = Charge.objects.bulk_create(to_create)
        except IntegrityError:
            raise BillingError("部分域名已有未完成的续费申请，请刷新后重试。") from None
        audit.record_many(
            created, "提交续费申请", actor=actor, to_state="待缴费",
            data=lambda c: {"years": c.years, "amount": str(c.amount)},
        )  # fmt: skip
    return created, skipped


# --- helpers --------------------------------------------------------------------------


def _require_office(actor, office_id):
    if getattr(actor, "role", None) != User.Role.OFFICE or actor.office_id != office_id:
        raise BillingError("该单位（或消费）不属于本编办管理。")


def _money(charge):
    return {"years": charge.years, "unit_price": str(charge.unit_price), "amount": str(charge.amount)}
