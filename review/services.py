"""The review engine: one place that decides who may review what, and when.

Tier 1 is the reviewable's own office; tier 2 is CONAC; a reviewable declares which
tiers it passes (``REVIEW_TIERS``: DNS changes go to CONAC alone). Nobody reviews out of turn,
twice, or outside their scope; a rejection needs a reason. Each decision is one
transaction: lock the row, check, set the state, write the decision and the audit
entry, run the reviewable's hooks. Two reviewers clicking at once yield one decision;
the second finds the new state and gets a clear message.
"""

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from conac import audit, workflow

from .models import Decision, Outcome, Tier


class ReviewError(Exception):
    """A decision the rules do not allow; the message is shown to the reviewer."""


class ReviewStepError(ReviewError, workflow.TransitionError):
    """A step the reviewable's lifecycle table refuses: a ``ReviewError`` to the pages, a ``TransitionError`` too."""


PENDING_LABEL = {Tier.OFFICE: "待审核", Tier.CONAC: "待复审"}


def tier_of(user):
    """The tier a user reviews at, or None."""
    role = getattr(user, "role", None)
    if role == "office" and user.office_id:
        return Tier.OFFICE
    if role == "conac":
        return Tier.CONAC
    return None


def pending_state(model, tier):
    return model.STATE_PENDING_OFFICE if tier == Tier.OFFICE else model.STATE_PENDING_CONAC


def state_after_pass(subject, tier):
    """The next declared tier's pending state, or the subject's passed state after the last tier."""
    model = type(subject)
    tiers = list(model.REVIEW_TIERS)
    position = tiers.index(tier)
    return pending_state(model, tiers[position + 1]) if position + 1 < len(tiers) else subject.passed_state


def queue_for(queryset, user):
    """The items of ``queryset`` waiting for ``user``'s decision (empty for non-reviewers)."""
    model = queryset.model
    tier = tier_of(user)
    if tier not in model.REVIEW_TIERS:
        return queryset.none()
    if tier == Tier.OFFICE:
        return queryset.filter(status=model.STATE_PENDING_OFFICE, **{f"{model.REVIEW_OFFICE_FIELD}_id": user.office_id})
    if tier == Tier.CONAC:
        return queryset.filter(status=model.STATE_PENDING_CONAC)
    return queryset.none()


def approve(subject, *, actor, opinion="", now=None):
    """审核通过 at the actor's tier."""
    return _decide(subject, Outcome.PASS, actor=actor, opinion=opinion, now=now)


def reject(subject, *, actor, opinion, now=None):
    """审核不通过 at the actor's tier; ``opinion`` (the 不通过原因) is required."""
    return _decide(subject, Outcome.REJECT, actor=actor, opinion=opinion, now=now)


def _decide(subject, outcome, *, actor, opinion, now=None):
    model = type(subject)
    opinion = (opinion or "").strip()
    tier = tier_of(actor)
    if tier is None or tier not in model.REVIEW_TIERS:
        raise ReviewError("您没有审核权限。")
    if outcome == Outcome.REJECT and not opinion:
        raise ReviewError("审核不通过时必须填写审核意见（不通过原因）。")
    try:
        with transaction.atomic():
            locked = model.objects.select_for_update().get(pk=subject.pk)
            if tier == Tier.OFFICE and locked.reviewing_office_id != actor.office_id:
                raise ReviewError("该申请不属于本编办审核。")
            expected = pending_state(model, tier)
            if locked.status != expected:
                raise ReviewError(_out_of_turn_message(locked, tier))
            before = locked.get_status_display()
            after = state_after_pass(locked, tier) if outcome == Outcome.PASS else model.STATE_REJECTED
            _check_step(model, locked.status, after, "office" if tier == Tier.OFFICE else "conac")
            locked.status = after
            locked.rejection_reason = "" if outcome == Outcome.PASS else opinion
            locked.save(update_fields=["status", "rejection_reason", "updated_at"])
            decision = Decision.objects.create(
                content_type=ContentType.objects.get_for_model(model),
                object_id=locked.pk,
                round=locked.review_round,
                tier=tier,
                outcome=outcome,
                opinion=opinion,
                reviewer=actor,
                office_name=actor.office.name if tier == Tier.OFFICE else "政务和公益机构域名注册管理中心",
            )
            audit.record(
                locked,
                f"{Tier(tier).label}：{Outcome(outcome).label}",
                actor=actor,
                from_state=before,
                to_state=locked.get_status_display(),
                reason=opinion,
                data={"round": locked.review_round, "tier": int(tier)},
            )
            if outcome == Outcome.PASS:
                locked.on_review_passed(tier, actor)
            else:
                locked.on_review_rejected(tier, actor, opinion)
    except IntegrityError:
        # The unique (subject, round, tier) caught a decision made in parallel.
        raise ReviewError("该申请已由其他审核人员处理，请刷新页面。") from None
    subject.status = locked.status
    subject.rejection_reason = locked.rejection_reason
    return decision


def _check_step(model, from_state, to_state, role):
    """The reviewable's own lifecycle table must allow the step; refused steps are ``ReviewError`` too."""
    if model.TRANSITIONS:
        try:
            workflow.check(
                model.TRANSITIONS, from_state, to_state, role, labels=dict(model._meta.get_field("status").choices)
            )
        except workflow.TransitionError as exc:
            raise ReviewStepError(str(exc)) from None


def _out_of_turn_message(subject, tier):
    if subject.status == subject.STATE_PENDING_OFFICE and tier == Tier.CONAC:
        return "该申请尚未经同级编办审核通过，不能复审。"
    if subject.status in (subject.STATE_PENDING_CONAC, subject.STATE_PASSED, subject.STATE_REJECTED):
        return f"该申请当前状态为“{subject.get_status_display()}”，已由其他审核人员处理或已审核，不能重复审核。"
    return f"该申请当前状态为“{subject.get_status_display()}”，不能审核。"


def resubmit(subject, *, actor, now=None, apply_changes=None):
    """The unit re-submits a rejected application: a new round, back to 待审核.

    ``apply_changes(locked)`` edits the locked row before it is saved (the unit's corrections).
    Earlier decisions stay in the history.
    """
    model = type(subject)
    if getattr(actor, "role", None) != "unit" or not getattr(actor, "unit_id", None):
        raise ReviewError("只有申报单位可以重新提交申请。")
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=subject.pk)
        if locked.applicant_id != actor.unit_id:
            raise ReviewError("只能重新提交本单位的申请。")
        if locked.status != model.STATE_REJECTED:
            raise ReviewError(f"只有审核不通过的申请可以重新提交（当前状态：{locked.get_status_display()}）。")
        before = locked.get_status_display()
        first = pending_state(model, model.REVIEW_TIERS[0])
        if model.TRANSITIONS and model.TRANSITIONS.get((locked.status, first)) != "unit":
            # e.g. a refused DNS change: the unit asks again with a new request, checked afresh.
            raise ReviewError("该申请审核不通过后不能重新提交，请重新提出申请。")
        _check_step(model, locked.status, first, "unit")
        changed = apply_changes(locked) if apply_changes else {}
        locked.status = first
        locked.review_round += 1
        locked.submitted_at = now or timezone.now()
        locked.save()
        audit.record(
            locked,
            "重新提交",
            actor=actor,
            from_state=before,
            to_state=locked.get_status_display(),
            data={"round": locked.review_round, "changed": changed or {}},
        )
    return locked


def decisions_of(subject):
    return Decision.objects.filter(
        content_type=ContentType.objects.get_for_model(type(subject)), object_id=subject.pk
    ).select_related("reviewer")
