"""The review engine's records: every decision, and the common reasons CONAC keeps.

A reviewable model (a domain application, a DNS change; website-opening and badge
applications later) inherits :class:`Reviewable`, declares its tiers and names its
states; the engine in ``review.services`` moves it through its declared tiers in order
— by default 待审核 (tier 1: the unit's own office) → 待复审 (tier 2: CONAC) → passed;
a DNS change goes to CONAC alone — or to 审核不通过 at any tier.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q


class Tier(models.IntegerChoices):
    OFFICE = 1, "编办审核"
    CONAC = 2, "CONAC复审"


class Outcome(models.TextChoices):
    PASS = "pass", "审核通过"
    REJECT = "reject", "审核不通过"


class Reviewable(models.Model):
    """Base of every reviewed model: two tiers by default, or the tiers it declares.

    Subclasses have a ``status`` field with choices, set the state values used by the
    engine (``STATE_PENDING_OFFICE``, ``STATE_PENDING_CONAC``, ``STATE_REJECTED``,
    ``STATE_PASSED``), name the tier-1 office field (``REVIEW_OFFICE_FIELD``) and the
    applicant's unit field (``REVIEW_APPLICANT_FIELD``), and may
    override the hooks ``on_review_passed`` / ``on_review_rejected`` (side effects inside
    the decision's transaction).
    """

    # The tiers an item passes, in order (DNS changes: CONAC only).
    REVIEW_TIERS = (Tier.OFFICE, Tier.CONAC)
    STATE_PENDING_OFFICE = "pending_local"
    STATE_PENDING_CONAC = "pending_conac"
    STATE_REJECTED = "rejected"
    STATE_PASSED = None  # set by the subclass
    # The lifecycle's (from, to) → role table; the engine checks every step against it.
    TRANSITIONS = {}
    # The field naming the office that reviews at tier 1.
    REVIEW_OFFICE_FIELD = "office"
    # The field naming the applicant: only its own account may re-submit.
    REVIEW_APPLICANT_FIELD = "unit"

    review_round = models.PositiveIntegerField("提交次数", default=1)
    submitted_at = models.DateTimeField("提交时间", db_index=True)
    rejection_reason = models.TextField("不通过原因", blank=True)

    class Meta:
        abstract = True

    @property
    def reviewing_office_id(self):
        return getattr(self, f"{self.REVIEW_OFFICE_FIELD}_id")

    @property
    def applicant_id(self):
        return getattr(self, f"{self.REVIEW_APPLICANT_FIELD}_id")

    @property
    def passed_state(self):
        """Where the last tier's approval leads; a subclass may choose per item (by its kind)."""
        return self.STATE_PASSED

    def on_review_passed(self, tier, actor):
        """Side effects of a passed tier, inside the decision's transaction."""

    def on_review_rejected(self, tier, actor, opinion):
        """Side effects of a rejection, inside the decision's transaction."""


class Decision(models.Model):
    """One reviewer's decision on one submission round of one reviewable, at one tier."""

    created_at = models.DateTimeField("审核时间", auto_now_add=True, db_index=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    round = models.PositiveIntegerField("提交次数")
    tier = models.PositiveSmallIntegerField("审核层级", choices=Tier.choices)
    outcome = models.CharField("审核结果", max_length=8, choices=Outcome.choices)
    opinion = models.TextField("审核意见", blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", on_delete=models.PROTECT, related_name="review_decisions"
    )
    # A snapshot, so the review engine needs nothing from the apps that use it.
    office_name = models.CharField("审核编办", max_length=128, blank=True)

    class Meta:
        verbose_name = "审核决定"
        verbose_name_plural = "审核决定"
        ordering = ["created_at", "id"]
        constraints = [
            # One decision per tier per submission: a second reviewer can never add another.
            models.UniqueConstraint(
                fields=["content_type", "object_id", "round", "tier"], name="one_decision_per_tier"
            ),
            models.CheckConstraint(condition=~Q(outcome="reject") | ~Q(opinion=""), name="rejection_has_reason"),
            models.CheckConstraint(condition=Q(outcome__in=["pass", "reject"]), name="decision_outcome_valid"),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="decision_subject_idx")]

    def __str__(self):
        return f"{self.get_tier_display()} {self.get_outcome_display()}"


class CommonReason(models.Model):
    """常用不通过原因: kept by CONAC in the admin; a reviewer starts from one and edits it."""

    text = models.CharField("原因", max_length=300)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "常用不通过原因"
        verbose_name_plural = "常用不通过原因"
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.text
