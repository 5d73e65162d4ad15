"""DNS records (域名解析) of live domains, the change requests that CONAC reviews, and zone state.

A unit never edits a published record directly: 添加记录, 修改 and 删除 each create a
:class:`DnsChange` that waits for 解析审核 (CONAC only). The effective record
(:class:`DnsRecord`) stays in service until its change is approved; only effective
records reach the published zone and the forwarding table.
"""

import uuid

from django.db import models
from django.db.models import Q

from registry.organisations.models import JurisdictionQuerySet
from review.models import Reviewable, Tier


class RecordType(models.TextChoices):
    A = "A", "A"
    AAAA = "AAAA", "AAAA"
    CNAME = "CNAME", "CNAME"
    MX = "MX", "MX"
    TXT = "TXT", "TXT"
    CAA = "CAA", "CAA"
    NS = "NS", "NS"
    URL = "URL", "URL转发"


class RedirectCode(models.IntegerChoices):
    PERMANENT = 301, "301（永久）"
    TEMPORARY = 302, "302（临时）"


class RecordData(models.Model):
    """The fields of one record, shared by the effective record and a change request.

    ``host`` is relative to the domain (``@``, ``www``, ``*``, ``a.b``) in A-labels;
    host names in ``value`` are absolute, in A-labels, without the trailing dot.
    """

    host = models.CharField("主机记录", max_length=253)
    rtype = models.CharField("记录类型", max_length=8, choices=RecordType.choices)
    value = models.TextField("记录值")
    ttl = models.PositiveIntegerField("TTL")
    priority = models.PositiveIntegerField("MX优先级", null=True, blank=True)
    caa_flags = models.PositiveSmallIntegerField("CAA标志", null=True, blank=True)
    caa_tag = models.CharField("CAA标签", max_length=16, blank=True)
    redirect_code = models.PositiveSmallIntegerField("转发方式", choices=RedirectCode.choices, null=True, blank=True)
    keep_path = models.BooleanField("保留路径和参数", default=False)

    DATA_FIELDS = ("host", "rtype", "value", "ttl", "priority", "caa_flags", "caa_tag", "redirect_code", "keep_path")

    class Meta:
        abstract = True

    def data(self):
        return {field: getattr(self, field) for field in self.DATA_FIELDS}

    def same_data(self, other):
        """Exactly the same record (TTL included): a duplicate."""
        return self.data() == (other.data() if hasattr(other, "data") else other)

    @property
    def host_display(self):
        from .values import host_to_unicode

        return host_to_unicode(self.host)

    @property
    def value_display(self):
        from .values import display_value

        return display_value(self)


class DnsRecordQuerySet(JurisdictionQuerySet):
    UNIT_FIELD = "domain__unit_id"
    OFFICE_FIELD = "domain__office"

    def effective(self):
        return self.filter(removed_at__isnull=True)


class DnsRecord(RecordData):
    """An effective record: in the published zone (or the forwarding table) while its domain is."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    domain = models.ForeignKey(
        "registry.Domain", verbose_name="域名", on_delete=models.PROTECT, related_name="dns_records"
    )
    created_at = models.DateTimeField("生效时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    # Removed records stay for the history; only the zone forgets them.
    removed_at = models.DateTimeField("删除时间", null=True, blank=True)

    objects = DnsRecordQuerySet.as_manager()

    class Meta:
        verbose_name = "解析记录"
        verbose_name_plural = "解析记录"
        ordering = ["domain_id", "host", "rtype", "id"]
        indexes = [
            # The zone publisher streams effective records domain by domain.
            models.Index(fields=["domain", "id"], name="dnsrecord_effective_idx", condition=Q(removed_at__isnull=True)),
            models.Index(
                fields=["rtype", "domain"], name="dnsrecord_url_idx", condition=Q(removed_at__isnull=True, rtype="URL")
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(rtype__in=[t.value for t in RecordType]), name="dnsrecord_rtype_valid")
        ]

    def __str__(self):
        return f"{self.host} {self.rtype} {self.value}"


class ChangeStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    APPROVED = "approved", "已生效"
    REJECTED = "rejected", "审核不通过"


class ChangeAction(models.TextChoices):
    ADD = "add", "添加记录"
    MODIFY = "modify", "修改"
    DELETE = "delete", "删除"


C = ChangeStatus

CHANGE_TRANSITIONS = {
    (C.PENDING, C.APPROVED): "conac",  # 解析审核 审核通过
    (C.PENDING, C.REJECTED): "conac",  # 解析审核 审核不通过
}


class DnsChangeQuerySet(JurisdictionQuerySet):
    UNIT_FIELD = "domain__unit_id"
    OFFICE_FIELD = "domain__office"

    def pending(self):
        return self.filter(status=C.PENDING)


class DnsChange(RecordData, Reviewable):
    """添加记录 / 修改 / 删除 of one record, waiting for 解析审核 at CONAC (one tier only).

    For 添加记录 and 修改 the record fields hold the new values; for 删除 they hold the
    record's values at the time of the request. ``old_value`` keeps what was in service
    when the change was asked for, for the reviewer and the history.
    """

    REVIEW_TIERS = (Tier.CONAC,)
    STATE_PENDING_OFFICE = None
    STATE_PENDING_CONAC = C.PENDING
    STATE_REJECTED = C.REJECTED
    STATE_PASSED = C.APPROVED
    TRANSITIONS = CHANGE_TRANSITIONS
    REVIEW_APPLICANT_FIELD = "unit"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    domain = models.ForeignKey(
        "registry.Domain", verbose_name="域名", on_delete=models.PROTECT, related_name="dns_changes"
    )
    unit = models.ForeignKey("registry.Unit", verbose_name="申报单位", on_delete=models.PROTECT, related_name="+")
    record = models.ForeignKey(
        DnsRecord, verbose_name="解析记录", null=True, blank=True, on_delete=models.PROTECT, related_name="changes"
    )
    action = models.CharField("申请类型", max_length=8, choices=ChangeAction.choices)
    status = models.CharField("状态", max_length=10, choices=ChangeStatus.choices, default=C.PENDING)
    old_value = models.TextField("原记录", blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = DnsChangeQuerySet.as_manager()

    class Meta:
        verbose_name = "解析变更申请"
        verbose_name_plural = "解析变更申请"
        ordering = ["submitted_at", "id"]
        constraints = [
            # One open change per record: a second 修改 or 删除 waits for the first decision.
            models.UniqueConstraint(
                fields=["record"], condition=Q(status="pending"), name="one_pending_change_per_record"
            ),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in C]), name="dnschange_status_valid"),
            models.CheckConstraint(
                # 修改 and 删除 name their record; 添加记录 gets one when it is approved.
                condition=Q(action="add") | Q(record__isnull=False),
                name="dnschange_record_matches_action",
            ),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"], name="dnschange_queue_idx")]

    def __str__(self):
        return f"{self.get_action_display()} {self.host} {self.rtype} {self.value}"

    @property
    def reviewing_office_id(self):
        return None

    def on_review_passed(self, tier, actor):
        from .services import change_approved

        change_approved(self, actor)

    def on_review_rejected(self, tier, actor, opinion):
        from .services import change_rejected

        change_rejected(self, actor, opinion)


class ZoneState(models.Model):
    """One row per published zone: the serial, and what has been asked for versus published.

    ``requested`` is bumped in the same transaction as every change that alters a zone;
    the publisher records the ``requested`` value it published in ``published``. A zone
    with ``requested > published`` is dirty: the next publish writes it again.
    """

    zone = models.CharField("区域", max_length=63, unique=True)
    serial = models.PositiveBigIntegerField("SOA序列号", default=0)
    requested = models.PositiveBigIntegerField(default=0)
    published = models.PositiveBigIntegerField(default=0)
    published_at = models.DateTimeField("最近发布时间", null=True, blank=True)
    record_count = models.PositiveIntegerField("记录数", default=0)
    last_error = models.TextField("最近错误", blank=True)
    failed_at = models.DateTimeField("最近失败时间", null=True, blank=True)

    class Meta:
        verbose_name = "区域发布状态"
        verbose_name_plural = "区域发布状态"

    def __str__(self):
        return self.zone
