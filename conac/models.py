"""The few shared records: the audit log, the notice log, workday exceptions and export jobs."""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    """Who did what to which object, when, from which state to which, and why.

    Written by every service that changes state, inside the same transaction,
    so an entry exists exactly when the change does. Never edited or deleted.
    """

    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    action = models.CharField("操作", max_length=64)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    target = GenericForeignKey("content_type", "object_id")
    object_repr = models.CharField("对象", max_length=255)
    from_state = models.CharField("原状态", max_length=32, blank=True)
    to_state = models.CharField("新状态", max_length=32, blank=True)
    reason = models.TextField("原因", blank=True)
    data = models.JSONField("数据", default=dict, blank=True)

    class Meta:
        verbose_name = "操作记录"
        verbose_name_plural = "操作记录"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"], name="audit_object_idx")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"


class Notice(models.Model):
    """One SMS or email, from the moment it is queued to its last attempt.

    ``key`` names what the notice is about (object, kind, period); with the
    channel and recipient it is unique, so the same notice can never be sent twice.
    """

    class Channel(models.TextChoices):
        SMS = "sms", "短信"
        EMAIL = "email", "邮件"

    class Status(models.TextChoices):
        QUEUED = "queued", "待发送"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    created_at = models.DateTimeField("创建时间", auto_now_add=True, db_index=True)
    channel = models.CharField("渠道", max_length=8, choices=Channel.choices)
    recipient = models.CharField("接收人", max_length=254)
    template = models.CharField("模板", max_length=64)
    key = models.CharField("通知键", max_length=200)
    subject = models.CharField("标题", max_length=200, blank=True)
    body = models.TextField("内容")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    error = models.TextField("错误", blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["key", "channel", "recipient"], name="notice_unique_per_key"),
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "sent", "failed"]), name="notice_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} → {self.recipient}: {self.template}"


class WorkdayException(models.Model):
    """A day on which the official calendar is overridden by an administrator.

    ``chinesecalendar`` only knows the years the State Council has published;
    when a new year's 放假安排 comes out before the package is updated, or a
    local 调休 applies, the administrator records it here and it wins over the
    package (see ``conac.workdays``).
    """

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("是否工作日", help_text="勾选：当天上班（如调休补班）；不勾选：当天放假。")
    note = models.CharField("说明", max_length=200, blank=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "工作日调整"
        verbose_name_plural = "工作日调整"
        ordering = ["-date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {'上班' if self.is_workday else '放假'}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


# Every step is the worker's ("system"). Running → running is a run taken up again after its
# worker was lost (tasks are acknowledged late, so the broker hands the job out once more).
EXPORT_TRANSITIONS = {
    (ExportStatus.QUEUED, ExportStatus.RUNNING): "system",
    (ExportStatus.RUNNING, ExportStatus.RUNNING): "system",
    (ExportStatus.RUNNING, ExportStatus.DONE): "system",
    (ExportStatus.RUNNING, ExportStatus.FAILED): "system",
    (ExportStatus.QUEUED, ExportStatus.FAILED): "system",
}


class ExportJobQuerySet(models.QuerySet):
    def visible_to(self, user, *, now=None):
        """Only the user who asked sees a job, and only until it expires."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(owner=user, expires_at__gt=now or timezone.now())

    def expired(self, *, now=None):
        return self.filter(expires_at__lte=now or timezone.now())


class ExportJob(models.Model):
    """One 导出Excel too large for a request: written by a Celery task, kept for its owner a while.

    ``kind`` names the registered export (``conac.exports.source``) and ``parameters`` its
    query; the task applies the owner's scope again when it runs, as the page does.
    """

    TRANSITIONS = EXPORT_TRANSITIONS

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导出人", on_delete=models.CASCADE, related_name="export_jobs"
    )
    kind = models.CharField("导出类型", max_length=100)
    title = models.CharField("名称", max_length=100)
    parameters = models.JSONField("查询条件", default=dict, blank=True)
    status = models.CharField("状态", max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    rows_done = models.PositiveBigIntegerField("已写行数", default=0)
    rows_total = models.PositiveBigIntegerField("总行数", null=True, blank=True)
    file_name = models.CharField("文件", max_length=200, blank=True, help_text="导出文件在 documents 存储中的名称")
    file_size = models.PositiveBigIntegerField("文件大小", default=0)
    error = models.TextField("错误", blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("进度更新时间", null=True, blank=True)
    expires_at = models.DateTimeField("删除时间", db_index=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        verbose_name = "导出任务"
        verbose_name_plural = "导出任务"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "done", "failed"]), name="exportjob_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.title} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def percent(self):
        if self.status == ExportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(100, int(self.rows_done * 100 / self.rows_total))

    @property
    def finished(self):
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)

    @property
    def download_name(self):
        return f"{self.title}-{timezone.localtime(self.created_at):%Y%m%d-%H%M}.xlsx"


class RateCounter(models.Model):
    """One rate-limit window of one (scope, client) in the database: the counter every web
    process shares when no shared cache (Redis) is configured (``RATELIMIT_BACKEND``)."""

    key = models.CharField("键", max_length=200, unique=True)
    hits = models.PositiveIntegerField("次数", default=0)
    ends_at = models.DateTimeField("窗口结束", db_index=True)

    class Meta:
        verbose_name = "访问频率计数"
        verbose_name_plural = "访问频率计数"

    def __str__(self):
        return f"{self.key}: {self.hits}"
