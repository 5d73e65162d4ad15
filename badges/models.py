"""Website-opening / re-check applications, badge applications, and the badges they issue.

党政机关 apply for 网站开办审核 or 资格复核 (``.政务`` sites): 待审核 → 待复审 → 待资料确认
(the unit prints 申请函 and 申请表 and delivers them) → 资料确认 issues the badge, or 资料不符
closes the application. 事业单位 and 社会组织 apply for the badge directly (``.公益``
sites): 待审核 → 待复审 → the badge is issued at CONAC's approval. Both pass the same
two-tier review engine (``review``).
"""

import secrets
import uuid

from django.db import models
from django.db.models import Q

from conac import workflow
from registry.organisations.models import JurisdictionQuerySet
from review.models import Reviewable


class ApplicationKind(models.TextChoices):
    OPENING = "opening", "网站开办审核"
    RECHECK = "recheck", "资格复核"
    BADGE = "badge", "标识申请"


class MountMethod(models.TextChoices):
    SELF_HOSTED = "self", "自建网站"
    RED_PAGE = "redpage", "网络红页"


class ApplicationStatus(models.TextChoices):
    PENDING_LOCAL = "pending_local", "待审核"
    PENDING_CONAC = "pending_conac", "待复审"
    REJECTED = "rejected", "审核不通过"
    AWAITING_PAPER = "awaiting_paper", "待资料确认"
    PAPER_MISMATCH = "paper_mismatch", "资料不符"
    ISSUED = "issued", "已发放标识"


A = ApplicationStatus

APPLICATION_TRANSITIONS = {
    (A.PENDING_LOCAL, A.PENDING_CONAC): "office",  # 编办 审核通过
    (A.PENDING_LOCAL, A.REJECTED): "office",  # 编办 审核不通过
    (A.PENDING_CONAC, A.AWAITING_PAPER): "conac",  # CONAC 审核通过 (党政机关: the paper step follows)
    (A.PENDING_CONAC, A.ISSUED): "conac",  # CONAC 审核通过 (事业单位/社会组织: the badge is issued)
    (A.PENDING_CONAC, A.REJECTED): "conac",  # CONAC 审核不通过
    (A.REJECTED, A.PENDING_LOCAL): "unit",  # 修改后重新提交
    (A.AWAITING_PAPER, A.ISSUED): "office",  # 资料确认
    (A.AWAITING_PAPER, A.PAPER_MISMATCH): "office",  # 资料不符: closed, a new application is needed
}

# An application that still speaks for its website: a second one for the same site is refused.
OPEN_STATES = [A.PENDING_LOCAL, A.PENDING_CONAC, A.REJECTED, A.AWAITING_PAPER]


def check_application_transition(from_state, to_state, role):
    workflow.check(APPLICATION_TRANSITIONS, from_state, to_state, role, labels=dict(ApplicationStatus.choices))


class ApplicationQuerySet(JurisdictionQuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATES)


def document_storage():
    from django.core.files.storage import storages

    return storages["documents"]


class WebsiteApplication(Reviewable):
    """网站开办审核/资质复核申请 (党政机关) or 标识申请 (事业单位/社会组织) for one website."""

    STATE_PENDING_OFFICE = A.PENDING_LOCAL
    STATE_PENDING_CONAC = A.PENDING_CONAC
    STATE_REJECTED = A.REJECTED
    STATE_PASSED = A.AWAITING_PAPER
    TRANSITIONS = APPLICATION_TRANSITIONS

    public_id = models.UUIDField(unique=True, editable=False, default=uuid.uuid4)
    unit = models.ForeignKey(
        "registry.Unit", verbose_name="申报单位", on_delete=models.PROTECT, related_name="website_applications"
    )
    office = models.ForeignKey(
        "registry.Office", verbose_name="同级编办", on_delete=models.PROTECT, related_name="website_applications"
    )
    kind = models.CharField("申请类型", max_length=10, choices=ApplicationKind.choices)
    site_name = models.CharField("网站名称", max_length=100)
    domain = models.ForeignKey(
        "registry.Domain", verbose_name="中文域名", on_delete=models.PROTECT, related_name="website_applications"
    )
    english_domain = models.CharField("英文域名", max_length=253, blank=True)
    mount_method = models.CharField("挂标方式", max_length=10, choices=MountMethod.choices)
    server_ip = models.CharField("网站服务器IP地址", max_length=45, blank=True)
    home_url = models.CharField("网站首页地址", max_length=500, blank=True)
    description = models.TextField("网站简介", max_length=1000)
    # Shown on the 标识证书 (机构职能); the unit states it with the application.
    functions = models.TextField("机构职能", max_length=1000, blank=True)
    contact_name = models.CharField("联系人", max_length=50)
    contact_mobile = models.CharField("联系人手机", max_length=20)
    contact_email = models.EmailField("联系人邮箱", max_length=254)
    status = models.CharField("状态", max_length=16, choices=ApplicationStatus.choices, default=A.PENDING_LOCAL)
    conac_approved_at = models.DateTimeField("复审通过时间", null=True, blank=True)
    paper_decided_at = models.DateTimeField("资料确认时间", null=True, blank=True)
    paper_reason = models.TextField("资料不符原因", blank=True)
    # 资格复核: the site's badge that the re-check confirmed (it keeps its code and stays valid).
    confirmed_badge = models.ForeignKey(
        "Badge", verbose_name="复核的标识", null=True, blank=True, on_delete=models.PROTECT, related_name="rechecks"
    )
    letter_pdf = models.FileField("申请函", storage=document_storage, upload_to="applications/", blank=True)
    form_pdf = models.FileField("申请表", storage=document_storage, upload_to="applications/", blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = "网站开办及标识申请"
        verbose_name_plural = "网站开办及标识申请"
        ordering = ["-id"]
        constraints = [
            # One open application per website (its Chinese domain).
            models.UniqueConstraint(
                fields=["domain"],
                condition=Q(status__in=["pending_local", "pending_conac", "rejected", "awaiting_paper"]),
                name="one_open_application_per_site",
            ),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in A]), name="application_status_valid"),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in ApplicationKind]), name="application_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["office", "status", "submitted_at"], name="application_office_queue_idx"),
            models.Index(fields=["status", "submitted_at"], name="application_status_queue_idx"),
            models.Index(fields=["unit", "status"], name="application_unit_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}：{self.site_name}"

    @property
    def needs_paper(self):
        """党政机关's applications end with the paper step (附件1 三、四); the others do not (附件4)."""
        return self.kind in (ApplicationKind.OPENING, ApplicationKind.RECHECK)

    @property
    def passed_state(self):
        return A.AWAITING_PAPER if self.needs_paper else A.ISSUED

    def on_review_passed(self, tier, actor):
        from .services import application_review_passed

        application_review_passed(self, tier, actor)

    def on_review_rejected(self, tier, actor, opinion):
        from .services import application_review_rejected

        application_review_rejected(self, tier, actor, opinion)


class BadgeKind(models.TextChoices):
    RED = "red", "党政机关网站标识"
    BLUE = "blue", "事业单位网站标识"


class BadgeStatus(models.TextChoices):
    ISSUED = "issued", "已发放"
    HUNG = "hung", "已挂标"
    OVERDUE = "overdue", "逾期未挂标"
    REVOKED = "revoked", "已撤销"


B = BadgeStatus

BADGE_TRANSITIONS = {
    (B.ISSUED, B.HUNG): "system",  # the check finds the snippet, or the red page is published
    (B.ISSUED, B.OVERDUE): "system",  # not hung within 5 working days
    (B.OVERDUE, B.HUNG): "system",
    # A hung badge the check misses twice in a row drops back: 已发放 within the deadline, else 逾期未挂标.
    (B.HUNG, B.ISSUED): "system",
    (B.HUNG, B.OVERDUE): "system",
    (B.ISSUED, B.REVOKED): "conac",
    (B.HUNG, B.REVOKED): "conac",
    (B.OVERDUE, B.REVOKED): "conac",
}


def check_badge_transition(from_state, to_state, role):
    workflow.check(BADGE_TRANSITIONS, from_state, to_state, role, labels=dict(BadgeStatus.choices))


def new_certificate_id():
    return secrets.token_hex(16)


class BadgeQuerySet(JurisdictionQuerySet):
    pass


class Badge(models.Model):
    """网站标识: the code a website carries, its certificate page id, and its life after issue."""

    code = models.CharField("标识编号", max_length=23, unique=True)
    # Opaque id of the public 标识证书 page: not derivable from the code.
    certificate_id = models.CharField(
        "证书编号", max_length=32, unique=True, default=new_certificate_id, editable=False
    )
    unit = models.ForeignKey("registry.Unit", verbose_name="申报单位", on_delete=models.PROTECT, related_name="badges")
    office = models.ForeignKey(
        "registry.Office", verbose_name="同级编办", on_delete=models.PROTECT, related_name="badges"
    )
    application = models.OneToOneField(
        WebsiteApplication, verbose_name="申请", on_delete=models.PROTECT, related_name="badge"
    )
    kind = models.CharField("标识类型", max_length=8, choices=BadgeKind.choices)
    status = models.CharField("状态", max_length=10, choices=BadgeStatus.choices, default=B.ISSUED)
    site_name = models.CharField("网站名称", max_length=100)
    domain = models.ForeignKey(
        "registry.Domain", verbose_name="中文域名", on_delete=models.PROTECT, related_name="badges"
    )
    english_domain = models.CharField("英文域名", max_length=253, blank=True)
    home_url = models.CharField("网站首页地址", max_length=500, blank=True)
    mount_method = models.CharField("挂标方式", max_length=10, choices=MountMethod.choices)
    site_sequence = models.PositiveSmallIntegerField("网站序号")
    issued_at = models.DateTimeField("发放时间")
    deadline = models.DateField("挂标期限")
    hung_at = models.DateTimeField("挂标时间", null=True, blank=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoke_reason = models.TextField("撤销原因", blank=True)
    # The hang check's latest result (the full history is in HangCheck).
    last_checked_at = models.DateTimeField("最近检查时间", null=True, blank=True)
    last_check_found = models.BooleanField("最近检查找到标识", null=True, blank=True)
    last_check_note = models.CharField("最近检查结果", max_length=500, blank=True)
    # Consecutive checks of a hung badge that did not find it; two in a row drop it back.
    missed_checks = models.PositiveSmallIntegerField("连续未找到次数", default=0)

    objects = BadgeQuerySet.as_manager()

    class Meta:
        verbose_name = "网站标识"
        verbose_name_plural = "网站标识"
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^CA[0-9]{21}$"), name="badge_code_format"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in B]), name="badge_status_valid"),
            # Codes are never reused: a unit's site sequence only grows, revoked badges included.
            models.UniqueConstraint(fields=["unit", "site_sequence"], name="badge_unit_site_sequence_unique"),
        ]

    def __str__(self):
        return self.code


class HangCheck(models.Model):
    """One fetch of a badge's 网站首页地址 by the hang check, and what it saw."""

    badge = models.ForeignKey(Badge, verbose_name="网站标识", on_delete=models.PROTECT, related_name="checks")
    checked_at = models.DateTimeField("检查时间")
    url = models.CharField("检查地址", max_length=500)
    found = models.BooleanField("找到标识")
    http_status = models.PositiveSmallIntegerField("HTTP状态", null=True, blank=True)
    note = models.CharField("结果", max_length=500)
    bytes_read = models.PositiveIntegerField("读取字节数", default=0)

    class Meta:
        verbose_name = "挂标检查"
        verbose_name_plural = "挂标检查"
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["badge", "-checked_at"], name="hangcheck_badge_idx")]

    def __str__(self):
        return f"{self.badge.code} {self.checked_at:%Y-%m-%d %H:%M} {'找到' if self.found else '未找到'}"


class RedPage(models.Model):
    """网络红页: the unit's hosted micro-site. The draft is edited; 发布红页 copies it, sanitised,
    into the published fields that the public page shows (with the badge in the footer)."""

    unit = models.OneToOneField(
        "registry.Unit", verbose_name="申报单位", on_delete=models.PROTECT, related_name="red_page"
    )
    intro = models.TextField("单位简介", blank=True)
    functions = models.TextField("机构职能", blank=True)
    address = models.CharField("单位地址", max_length=200, blank=True)
    phone = models.CharField("联系电话", max_length=50, blank=True)
    footer = models.TextField("页脚", blank=True)
    published_intro = models.TextField(blank=True)
    published_functions = models.TextField(blank=True)
    published_address = models.CharField(max_length=200, blank=True)
    published_phone = models.CharField(max_length=50, blank=True)
    published_footer = models.TextField(blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "网络红页"
        verbose_name_plural = "网络红页"

    def __str__(self):
        return f"{self.unit} 网络红页"

    @property
    def is_published(self):
        return self.published_at is not None
