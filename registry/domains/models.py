"""Domains (.政务 / .公益 names) and their lifecycle, and the reserved-names list."""

import uuid

from django.db import models
from django.db.models import Q
from django.dispatch import Signal

from conac import workflow
from registry.organisations.models import JurisdictionQuerySet
from review.models import Reviewable


class DomainStatus(models.TextChoices):
    PENDING_LOCAL = "pending_local", "待审核"
    PENDING_CONAC = "pending_conac", "待复审"
    REJECTED = "rejected", "审核不通过"
    AWAITING_PAYMENT = "awaiting_payment", "待缴费"
    FEE_MARKED = "fee_marked", "已收费"
    ACTIVATING = "activating", "待生效"
    ACTIVE = "active", "注册成功"
    EXPIRED = "expired", "已过期"
    DELETED = "deleted", "已删除"


S = DomainStatus

# The whole workflow at a glance: (from, to) → who may take the step.
# Review steps are taken by the review engine (review.services), the rest by services.
TRANSITIONS = {
    (S.PENDING_LOCAL, S.PENDING_CONAC): "office",  # 编办 审核通过
    (S.PENDING_LOCAL, S.REJECTED): "office",  # 编办 审核不通过
    (S.PENDING_CONAC, S.AWAITING_PAYMENT): "conac",  # CONAC 审核通过
    (S.PENDING_CONAC, S.REJECTED): "conac",  # CONAC 审核不通过
    (S.REJECTED, S.PENDING_LOCAL): "unit",  # 重新提交
    (S.AWAITING_PAYMENT, S.FEE_MARKED): "office",  # 确认收费 (billing)
    (S.FEE_MARKED, S.ACTIVATING): "conac",  # 认款 consumed its charge (billing)
    (S.ACTIVATING, S.ACTIVE): "system",  # one working day after 认款 (daily job)
    (S.ACTIVE, S.EXPIRED): "system",  # past 到期时间 (daily job)
    (S.EXPIRED, S.ACTIVE): "system",  # a renewal applied (daily job)
    **{(state, S.DELETED): "office" for state in S if state != S.DELETED},  # 删除域名
}

STATUS_NAMES = dict(DomainStatus.choices)

# States in which a name is taken: no other application may use it.
LIVE_STATES = [s for s in S if s not in (S.REJECTED, S.DELETED)]


def check_transition(from_state, to_state, role):
    """Raise ``conac.workflow.TransitionError`` unless TRANSITIONS allows the step for ``role``."""
    workflow.check(TRANSITIONS, from_state, to_state, role, labels=dict(DomainStatus.choices))


# Sent after an UPDATE of domains in bulk (``Domain.objects.filter(…).update(…)``: fee marking,
# the daily activation and renewal jobs), which sends no post_save: the caches of what domains
# show (the review queues' rows, RDAP) listen to both.
domains_updated = Signal()


class DomainQuerySet(JurisdictionQuerySet):
    """A unit its own domains; an office its units' and, read-only, those below; CONAC all."""

    def update(self, **kwargs):
        count = super().update(**kwargs)
        if count:
            domains_updated.send(sender=self.model)
        return count

    def live(self):
        return self.filter(status__in=LIVE_STATES)


class Domain(Reviewable):
    """A name applied for by a unit: Unicode label + suffix, with its A-label beside it."""

    STATE_PENDING_OFFICE = S.PENDING_LOCAL
    STATE_PENDING_CONAC = S.PENDING_CONAC
    STATE_REJECTED = S.REJECTED
    STATE_PASSED = S.AWAITING_PAYMENT
    TRANSITIONS = TRANSITIONS

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    unit = models.ForeignKey("registry.Unit", verbose_name="申报单位", on_delete=models.PROTECT, related_name="domains")
    # The reviewing office, copied from the unit: scoping and queues filter on it.
    office = models.ForeignKey(
        "registry.Office", verbose_name="同级编办", on_delete=models.PROTECT, related_name="domains"
    )
    label = models.CharField("域名", max_length=63)
    alabel = models.CharField("英文编码（A-label）", max_length=63)
    suffix = models.CharField("域名后缀", max_length=16)
    years = models.PositiveSmallIntegerField("注册年限")
    status = models.CharField("状态", max_length=20, choices=DomainStatus.choices, default=S.PENDING_LOCAL)
    registered_on = models.DateField("注册日期", null=True, blank=True)
    expires_on = models.DateField("到期时间", null=True, blank=True)
    deleted_at = models.DateTimeField("删除时间", null=True, blank=True)
    delete_reason = models.TextField("删除原因", blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = DomainQuerySet.as_manager()

    class Meta:
        verbose_name = "域名"
        verbose_name_plural = "域名"
        ordering = ["-id"]
        constraints = [
            # No two live domains with the same name; rejected and deleted ones don't block.
            models.UniqueConstraint(
                fields=["label", "suffix"],
                condition=~Q(status__in=["rejected", "deleted"]),
                name="unique_live_domain_name",
            ),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in S]), name="domain_status_valid"),
            models.CheckConstraint(condition=Q(years__gte=1, years__lte=10), name="domain_years_1_to_10"),
        ]
        indexes = [
            models.Index(fields=["office", "status", "submitted_at"], name="domain_office_queue_idx"),
            models.Index(fields=["status", "submitted_at"], name="domain_status_queue_idx"),
            models.Index(fields=["expires_on", "id"], name="domain_expiry_idx"),
            models.Index(fields=["office", "expires_on", "id"], name="domain_office_expiry_idx"),
            # Prefix search (域名查询 by a name's beginning) on PostgreSQL needs pattern ops.
            models.Index(fields=["label"], name="domain_label_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["alabel"], name="domain_alabel_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["unit", "status"], name="domain_unit_idx"),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        return f"{self.label}{self.suffix}"

    @property
    def full_alabel(self):
        from .names import SUFFIXES

        return f"{self.alabel}.{SUFFIXES.get(self.suffix, '')}"

    @property
    def status_name(self):
        """The state's name (待审核, 注册成功…): ``get_status_display()`` without flattening the
        field's choices on each call (lists show hundreds of them)."""
        return STATUS_NAMES.get(self.status, self.status)

    @property
    def is_live(self):
        return self.status in LIVE_STATES

    def on_review_passed(self, tier, actor):
        from .services import domain_review_passed

        domain_review_passed(self, tier, actor)

    def on_review_rejected(self, tier, actor, opinion):
        from .services import domain_review_rejected

        domain_review_rejected(self, tier, actor, opinion)


class ReservedName(models.Model):
    """A name CONAC keeps back: nobody may apply for it (under one suffix, or all)."""

    label = models.CharField("保留名称", max_length=63, help_text="中文名称（不含后缀）")
    suffix = models.CharField("域名后缀", max_length=16, blank=True, help_text="留空表示所有后缀")
    note = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField("添加时间", auto_now_add=True)

    class Meta:
        verbose_name = "保留名称"
        verbose_name_plural = "保留名称"
        ordering = ["label"]
        constraints = [models.UniqueConstraint(fields=["label", "suffix"], name="unique_reserved_name")]

    def __str__(self):
        return f"{self.label}{self.suffix or '（所有后缀）'}"

    def save(self, *args, **kwargs):
        # Rows added outside the admin form (fixtures, the shell) are normalised too.
        self.clean()
        super().save(*args, **kwargs)

    def clean(self):
        """Store what the lookup compares: the normalised label and a configured suffix."""
        from django.core.exceptions import ValidationError

        from . import names

        suffix = (self.suffix or "").strip()
        if suffix and not suffix.startswith("."):
            suffix = "." + suffix
        if suffix and suffix not in names.SUFFIXES:
            raise ValidationError({"suffix": f"域名后缀须为{'、'.join(names.SUFFIXES)}之一，或留空表示所有后缀。"})
        self.suffix = suffix
        try:
            self.label = names.normalize_label(self.label)
        except ValidationError as exc:
            raise ValidationError({"label": exc.messages}) from None
        if not self.label:
            raise ValidationError({"label": "请填写保留名称。"})
