"""Fees, charges (消费), fee marking (收费), remittances (汇款), the office ledger.

Money never appears, disappears or counts twice:
- a charge's amount is fixed when it is created (unit price × years);
- a charge is marked (确认收费) once, consumed (debited) once: a unique ledger debit per charge;
- a remittance is confirmed (认款) once and credited once: a unique ledger credit per remittance;
- a consumed charge whose period never started (its domain deleted first) is returned to
  the balance once: a unique ledger return per charge;
- a 待退费 charge is refunded (退费) once: one refund per charge, a voucher once per office;
- the ledger is append-only and each office's balance is never negative (database checks).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from conac import workflow
from registry.organisations.models import JurisdictionQuerySet

from .money import yuan_text

MONEY = {"max_digits": 12, "decimal_places": 2}


class FeeSchedule(models.Model):
    """年费: a price per year for one suffix, valid over a date range (kept by CONAC in the admin)."""

    suffix = models.CharField("域名后缀", max_length=16)
    price_per_year = models.DecimalField("年费（元/年）", **MONEY)
    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True, help_text="留空表示长期有效")

    class Meta:
        verbose_name = "收费标准"
        verbose_name_plural = "收费标准"
        ordering = ["suffix", "-valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(price_per_year__gt=0), name="fee_price_positive"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="fee_valid_range"
            ),
            models.UniqueConstraint(fields=["suffix", "valid_from"], name="fee_one_price_per_start"),
        ]

    def __str__(self):
        return f"{self.suffix} {yuan_text(self.price_per_year)}/年（{self.valid_from} 起）"


class ChargeKind(models.TextChoices):
    REGISTRATION = "registration", "注册"
    RENEWAL = "renewal", "续费"


class ChargeStatus(models.TextChoices):
    PENDING = "pending", "待缴费"
    MARKED = "marked", "已收费"
    CONSUMED = "consumed", "已认款"
    APPLIED = "applied", "续费成功"
    CANCELLED = "cancelled", "已取消"
    REFUND_PENDING = "refund_pending", "待退费"
    REFUNDED = "refunded", "已退费"


C = ChargeStatus

# The whole charge workflow: (from, to) → who takes the step.
CHARGE_TRANSITIONS = {
    (C.PENDING, C.MARKED): "office",  # 确认收费
    (C.PENDING, C.CANCELLED): "office",  # 删除域名 before payment
    (C.MARKED, C.CONSUMED): "conac",  # 认款 consumed it
    (C.MARKED, C.REFUND_PENDING): "office",  # 删除域名 after 收费, before consumption: owed back
    (C.CONSUMED, C.APPLIED): "system",  # a renewal took effect (daily job)
    # 删除域名 before the paid period started: the money goes back to the office's balance
    # (a 退回 ledger credit) and the unit is owed it, as for a charge never consumed.
    (C.CONSUMED, C.REFUND_PENDING): "office",
    (C.APPLIED, C.REFUND_PENDING): "office",
    (C.REFUND_PENDING, C.REFUNDED): "office",  # 退费: the office paid the unit back
}


def check_charge_transition(from_state, to_state, role):
    """Raise ``conac.workflow.TransitionError`` unless CHARGE_TRANSITIONS allows the step for ``role``."""
    workflow.check(CHARGE_TRANSITIONS, from_state, to_state, role, labels=dict(ChargeStatus.choices))


# A renewal is "open" from 提交续费申请 until it has taken effect (or was cancelled).
OPEN_RENEWAL_STATES = [C.PENDING, C.MARKED, C.CONSUMED]


class ChargeQuerySet(JurisdictionQuerySet):
    """Charges follow the jurisdiction of their unit and collecting office."""


class FeeMarking(models.Model):
    """One 确认收费: the charges an office marked paid for one unit, with the invoice."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    office = models.ForeignKey("registry.Office", verbose_name="编办", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("registry.Unit", verbose_name="申报单位", on_delete=models.PROTECT, related_name="+")
    invoice_no = models.CharField("发票号码", max_length=50)
    amount = models.DecimalField("收费金额", **MONEY)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="收费人", on_delete=models.PROTECT, related_name="+"
    )
    marked_at = models.DateTimeField("收费时间", default=timezone.now)

    class Meta:
        verbose_name = "收费记录"
        verbose_name_plural = "收费记录"
        ordering = ["-marked_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="marking_amount_positive")]

    def __str__(self):
        return f"{self.unit} 发票{self.invoice_no} {yuan_text(self.amount)}"


class Charge(models.Model):
    """消费: what a unit owes for registering or renewing one domain for some years."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField("类型", max_length=16, choices=ChargeKind.choices)
    domain = models.ForeignKey("registry.Domain", verbose_name="域名", on_delete=models.PROTECT, related_name="charges")
    unit = models.ForeignKey("registry.Unit", verbose_name="申报单位", on_delete=models.PROTECT, related_name="charges")
    office = models.ForeignKey(
        "registry.Office", verbose_name="收费编办", on_delete=models.PROTECT, related_name="charges"
    )
    years = models.PositiveSmallIntegerField("年限")
    unit_price = models.DecimalField("年费（元/年）", **MONEY)
    amount = models.DecimalField("金额", **MONEY)
    status = models.CharField("状态", max_length=16, choices=ChargeStatus.choices, default=C.PENDING)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    marking = models.ForeignKey(
        FeeMarking, verbose_name="收费记录", null=True, blank=True, on_delete=models.PROTECT, related_name="charges"
    )
    marked_at = models.DateTimeField("收费时间", null=True, blank=True)
    remittance = models.ForeignKey(
        "Remittance", verbose_name="认款汇款", null=True, blank=True, on_delete=models.PROTECT, related_name="charges"
    )
    consumed_at = models.DateTimeField("认款时间", null=True, blank=True)
    effective_on = models.DateField("生效日期", null=True, blank=True, help_text="认款后一个工作日")
    applied_at = models.DateTimeField("续费生效时间", null=True, blank=True)
    previous_expiry = models.DateField("原到期时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)

    objects = ChargeQuerySet.as_manager()

    class Meta:
        verbose_name = "消费"
        verbose_name_plural = "消费"
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(unit_price__gt=0), name="charge_amount_positive"),
            models.CheckConstraint(condition=Q(years__gte=1, years__lte=10), name="charge_years_1_to_10"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in C]), name="charge_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in ChargeKind]), name="charge_kind_valid"),
            # One registration charge per domain (unless cancelled); one open renewal at a time.
            models.UniqueConstraint(
                fields=["domain"],
                condition=Q(kind="registration") & ~Q(status="cancelled"),
                name="one_registration_charge_per_domain",
            ),
            models.UniqueConstraint(
                fields=["domain"],
                condition=Q(kind="renewal", status__in=["pending", "marked", "consumed"]),
                name="one_open_renewal_per_domain",
            ),
            # A marked or consumed charge carries its marking; a consumed one its remittance.
            models.CheckConstraint(
                condition=~Q(status__in=["marked", "consumed", "applied", "refund_pending", "refunded"])
                | Q(marking__isnull=False),
                name="marked_charge_has_marking",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["consumed", "applied"]) | Q(remittance__isnull=False),
                name="consumed_charge_has_remittance",
            ),
        ]
        indexes = [
            models.Index(fields=["office", "status", "marked_at", "id"], name="charge_office_fifo_idx"),
            models.Index(fields=["unit", "status"], name="charge_unit_status_idx"),
            models.Index(fields=["status", "effective_on"], name="charge_due_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.domain} {self.years}年 {yuan_text(self.amount)}"


class Refund(models.Model):
    """退费: the office paid a 待退费 charge back to the unit; the charge is then 已退费.

    One per charge (a second click finds it), and a voucher number is used once per office.
    The money leaves the office, not CONAC: the office's ledger with CONAC is not touched.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    charge = models.OneToOneField(Charge, verbose_name="消费", on_delete=models.PROTECT, related_name="refund")
    office = models.ForeignKey("registry.Office", verbose_name="退费编办", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("registry.Unit", verbose_name="申报单位", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField("退费金额", **MONEY)
    refunded_on = models.DateField("退费日期")
    voucher_no = models.CharField("退费凭证号", max_length=64)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        verbose_name = "退费记录"
        verbose_name_plural = "退费记录"
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.UniqueConstraint(fields=["office", "voucher_no"], name="refund_voucher_unique_per_office"),
        ]

    def __str__(self):
        return f"{self.unit} 退费凭证{self.voucher_no} {yuan_text(self.amount)}"


class RemittanceStatus(models.TextChoices):
    PENDING = "pending", "待认款"
    CONFIRMED = "confirmed", "已认款"


class RemittanceQuerySet(models.QuerySet):
    def visible_to(self, user):
        role = getattr(user, "role", None)
        if role == "conac":
            return self
        if role == "office" and user.office_id:
            return self.filter(office_id=user.office_id)
        return self.none()


class Remittance(models.Model):
    """汇款: money an office sent to CONAC, waiting for CONAC to confirm it (认款)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    office = models.ForeignKey(
        "registry.Office", verbose_name="汇款编办", on_delete=models.PROTECT, related_name="remittances"
    )
    amount = models.DecimalField("汇款金额", **MONEY)
    remitted_on = models.DateField("汇款日期")
    voucher_no = models.CharField("汇款凭证号", max_length=64)
    note = models.CharField("备注", max_length=200, blank=True)
    status = models.CharField("状态", max_length=16, choices=RemittanceStatus.choices, default=RemittanceStatus.PENDING)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField("登记时间", default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="认款人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField("认款时间", null=True, blank=True)

    objects = RemittanceQuerySet.as_manager()

    class Meta:
        verbose_name = "汇款"
        verbose_name_plural = "汇款"
        ordering = ["-registered_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="remittance_amount_positive"),
            models.UniqueConstraint(fields=["office", "voucher_no"], name="voucher_unique_per_office"),
            models.CheckConstraint(condition=Q(status__in=["pending", "confirmed"]), name="remittance_status_valid"),
        ]
        indexes = [models.Index(fields=["status", "registered_at"], name="remittance_status_idx")]

    def __str__(self):
        return f"{self.office} 汇款{self.voucher_no} {yuan_text(self.amount)}"


class OfficeAccount(models.Model):
    """An office's balance with CONAC; its row is the lock that serialises 认款 per office."""

    office = models.OneToOneField(
        "registry.Office", verbose_name="编办", on_delete=models.PROTECT, related_name="account"
    )
    balance = models.DecimalField("余额", default=0, **MONEY)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "编办账户"
        verbose_name_plural = "编办账户"
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="office_balance_not_negative")]

    def __str__(self):
        return f"{self.office} 余额 {yuan_text(self.balance)}"


class LedgerEntry(models.Model):
    """One line of an office's ledger: a remittance credited, a charge debited, or a consumed
    charge whose period never started returned (退回, a credit). Never changed."""

    class Kind(models.TextChoices):
        CREDIT = "credit", "认款入账"
        DEBIT = "debit", "消费扣款"
        RETURN = "return", "消费退回"

    office = models.ForeignKey("registry.Office", verbose_name="编办", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    amount = models.DecimalField("金额", **MONEY)
    balance_after = models.DecimalField("余额", **MONEY)
    remittance = models.ForeignKey(
        Remittance, verbose_name="汇款", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    charge = models.ForeignKey(
        Charge, verbose_name="消费", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("记账时间", auto_now_add=True)

    class Meta:
        verbose_name = "账目"
        verbose_name_plural = "账目"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_amount_positive"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_not_negative"),
            models.CheckConstraint(
                condition=(Q(kind="credit", remittance__isnull=False, charge__isnull=True))
                | (Q(kind="debit", charge__isnull=False, remittance__isnull=True))
                | (Q(kind="return", charge__isnull=False, remittance__isnull=True)),
                name="ledger_entry_shape",
            ),
            # A remittance is credited once; a charge is debited once and returned at most once.
            models.UniqueConstraint(fields=["remittance"], condition=Q(kind="credit"), name="credit_once"),
            models.UniqueConstraint(fields=["charge"], condition=Q(kind="debit"), name="debit_once"),
            models.UniqueConstraint(fields=["charge"], condition=Q(kind="return"), name="return_once"),
        ]
        indexes = [models.Index(fields=["office", "id"], name="ledger_office_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {yuan_text(self.amount)}"
