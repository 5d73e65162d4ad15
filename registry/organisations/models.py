"""Regions, staffing offices (编办), units (申报单位) and the people who sign in."""

import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from .validators import credit_code_category, display_mobile


class Region(models.Model):
    """A GB/T 2260 administrative division: province → prefecture → county."""

    class Level(models.TextChoices):
        PROVINCE = "province", "省级"
        PREFECTURE = "prefecture", "地市级"
        COUNTY = "county", "县级"

    code = models.CharField("区划代码", max_length=6, unique=True)
    name = models.CharField("名称", max_length=64)
    full_name = models.CharField("全称", max_length=128)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级区划", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self):
        return self.full_name

    @property
    def scope_prefix(self):
        """The code prefix shared by this region and every region below it."""
        if self.level == self.Level.PROVINCE:
            return self.code[:2]
        if self.level == self.Level.PREFECTURE:
            return self.code[:4]
        return self.code


class OfficeQuerySet(models.QuerySet):
    def visible_to(self, user):
        if getattr(user, "role", None) == User.Role.CONAC:
            return self
        if getattr(user, "role", None) == User.Role.OFFICE and user.office_id:
            return self.filter(code__startswith=user.office.scope_prefix)
        return self.none()


class Office(models.Model):
    """A staffing office (编办): the root 中央编办, or the office of one region."""

    ROOT_CODE = "000000"

    code = models.CharField("编码", max_length=6, unique=True, help_text="所在区划代码；中央编办为000000")
    name = models.CharField("名称", max_length=128)
    region = models.OneToOneField(
        Region, verbose_name="所在地区", null=True, blank=True, on_delete=models.PROTECT, related_name="office"
    )
    parent = models.ForeignKey(
        "self", verbose_name="上级编办", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    scope_prefix = models.CharField(
        "辖区前缀", max_length=6, blank=True, help_text="下级编办与单位的区划代码前缀；中央编办为空（全国）"
    )

    objects = OfficeQuerySet.as_manager()

    class Meta:
        verbose_name = "编办"
        verbose_name_plural = "编办"
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def is_root(self):
        return self.code == self.ROOT_CODE

    @staticmethod
    def name_for(region):
        """Offices are named as people say them: 北京市委编办, 北京市海淀区委编办, 广西壮族自治区党委编办."""
        if region.name.endswith("自治区"):
            return f"{region.full_name}党委编办"
        if region.name.endswith("地区"):
            return f"{region.full_name[: -len('地区')]}地委编办"
        return f"{region.full_name}委编办"


class UnitKind(models.TextChoices):
    ORGAN = "organ", "党政机关"
    INSTITUTION = "institution", "事业单位"
    SOCIAL_ORG = "social_org", "社会组织"


class UnitLevel(models.TextChoices):
    CENTRAL = "central", "中央"
    PROVINCE = "province", "省级"
    PREFECTURE = "prefecture", "地市级"
    COUNTY = "county", "县级"


# Which region level a unit of each level must be in (中央 units may sit anywhere).
LEVEL_REGION = {
    UnitLevel.PROVINCE: Region.Level.PROVINCE,
    UnitLevel.PREFECTURE: Region.Level.PREFECTURE,
    UnitLevel.COUNTY: Region.Level.COUNTY,
}


class JurisdictionQuerySet(models.QuerySet):
    """The one scoping rule for rows that belong to a unit and its office.

    A unit sees its own; an office its own units' and, read-only, those of the offices
    below it (by region code prefix); CONAC sees all. Subclasses name the field that
    points at the unit (``UNIT_FIELD``) and at the office (``OFFICE_FIELD``).
    """

    UNIT_FIELD = "unit_id"
    OFFICE_FIELD = "office"

    def visible_to(self, user):
        role = getattr(user, "role", None)
        if role == "conac":
            return self
        if role == "office" and user.office_id:
            prefix = user.office.scope_prefix
            return self.filter(**{f"{self.OFFICE_FIELD}__code__startswith": prefix}) if prefix else self
        if role == "unit" and user.unit_id:
            return self.filter(**{self.UNIT_FIELD: user.unit_id})
        return self.none()


class UnitQuerySet(JurisdictionQuerySet):
    """A unit sees itself; an office its own units and, read-only, those below it; CONAC all."""

    UNIT_FIELD = "pk"

    def editable_by(self, user):
        """Only the unit's own office changes its information or password."""
        if getattr(user, "role", None) == User.Role.OFFICE and user.office_id:
            return self.filter(office_id=user.office_id)
        return self.none()


class Unit(models.Model):
    """申报单位: an organisation that registers domains and signs in with its own account."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField("单位名称", max_length=100)
    kind = models.CharField("单位类型", max_length=16, choices=UnitKind.choices)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True)
    region = models.ForeignKey(Region, verbose_name="所在地区", on_delete=models.PROTECT, related_name="units")
    level = models.CharField("单位级别", max_length=16, choices=UnitLevel.choices)
    office = models.ForeignKey(
        Office, verbose_name="同级编办", on_delete=models.PROTECT, related_name="units", editable=False
    )
    address = models.CharField("单位地址", max_length=200)
    leader = models.CharField("负责人", max_length=50)
    contact = models.CharField("联系人", max_length=50)
    contact_mobile = models.CharField("联系人手机", max_length=20)  # stored as E.164 (+86…)
    contact_email = models.EmailField("联系人邮箱")
    # 新用户注册 takes the email on trust only after its confirmation link is opened; until then
    # conac.notices sends nothing there (see verification.unverified_recipients). Addresses typed
    # by an office (修改) or an administrator, and every unit from before the check, count as confirmed.
    contact_email_verified = models.BooleanField(
        "联系人邮箱已确认", default=True, help_text="未确认的邮箱不接收任何通知。"
    )
    office_phone = models.CharField("办公电话", max_length=30, blank=True)
    handler = models.CharField("经办人", max_length=50)
    handler_id_number = models.CharField("经办人身份证号", max_length=18)
    created_at = models.DateTimeField("注册时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = UnitQuerySet.as_manager()

    # The * fields of 详细信息: all must be complete for a change to be accepted.
    REQUIRED_FIELDS = (
        "name", "kind", "credit_code", "region", "level", "address", "leader",
        "contact", "contact_mobile", "contact_email", "handler", "handler_id_number",
    )  # fmt: skip

    class Meta:
        verbose_name = "申报单位"
        verbose_name_plural = "申报单位"
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["office", "name"], name="unit_office_name_idx"),
            # conac.notices asks, for every email it queues, whether the address waits for its
            # confirmation: only the few unconfirmed units are in this index.
            models.Index(
                Lower("contact_email"), condition=Q(contact_email_verified=False), name="unit_unverified_email_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["organ", "institution", "social_org"]), name="unit_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(level__in=["central", "province", "prefecture", "county"]), name="unit_level_valid"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def contact_mobile_display(self):
        return display_mobile(self.contact_mobile)

    @property
    def credit_code_category(self):
        return credit_code_category(self.credit_code)

    @staticmethod
    def reviewing_office_for(level, region):
        """The 同级编办: 中央 → 中央编办; otherwise the office of the unit's own region."""
        if level == UnitLevel.CENTRAL:
            return Office.objects.get(code=Office.ROOT_CODE)
        return Office.objects.get(region=region)


class User(AbstractUser):
    """Everyone who signs in: a unit's account, office staff, CONAC staff, administrators."""

    class Role(models.TextChoices):
        UNIT = "unit", "申报单位"
        OFFICE = "office", "编办工作人员"
        CONAC = "conac", "CONAC工作人员"
        ADMIN = "admin", "系统管理员"

    role = models.CharField("角色", max_length=8, choices=Role.choices, default=Role.ADMIN)
    office = models.ForeignKey(
        Office, verbose_name="所属编办", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    unit = models.OneToOneField(
        Unit, verbose_name="申报单位", null=True, blank=True, on_delete=models.PROTECT, related_name="account"
    )

    objects = UserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(condition=Q(role__in=["unit", "office", "conac", "admin"]), name="user_role_valid"),
            models.CheckConstraint(
                condition=~Q(role="office") | Q(office__isnull=False), name="office_staff_has_office"
            ),
            models.CheckConstraint(condition=~Q(role="unit") | Q(unit__isnull=False), name="unit_user_has_unit"),
        ]

    @property
    def display_name(self):
        if self.role == self.Role.UNIT and self.unit_id:
            return f"{self.unit.name}（{self.username}）"
        return self.get_full_name() or self.username


class MobileVerification(models.Model):
    """The 验证码 last sent to one mobile number for 新用户注册, and how many went there today.

    One row per number, locked while a code is sent or checked: two requests cannot both pass
    the interval between sends, nor both use one code. Only a keyed hash of the code is kept.
    """

    mobile = models.CharField("手机号码", max_length=20, unique=True)  # E.164
    code_hash = models.CharField("验证码摘要", max_length=64, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    expires_at = models.DateTimeField("有效期至", null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField("输错次数", default=0)
    sent_on = models.DateField("计数日期", null=True, blank=True)
    sends_that_day = models.PositiveSmallIntegerField("当日发送次数", default=0)
    client_address = models.CharField("请求地址", max_length=64, blank=True)

    class Meta:
        verbose_name = "手机验证码"
        verbose_name_plural = "手机验证码"

    def __str__(self):
        return display_mobile(self.mobile)
