"""Writes to domains: 域名申请, 重新提交, the review hooks, 删除域名.

Every function is one transaction with a row lock and an audit entry; the review
decisions themselves go through the one engine in ``review.services``.
"""

import hashlib

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from conac import audit, notices
from registry.models import Domain, DomainStatus, ReservedName, Unit, check_transition
from review import services as review
from review.models import Tier

from . import hooks, names

MIN_YEARS, MAX_YEARS = 1, 10


class DomainError(Exception):
    """A change to a domain that the rules refuse; the message is shown to the user."""


def check_name(unit, raw_label, suffix, *, exclude_pk=None):
    """All the name rules for ``unit`` applying for ``raw_label`` + ``suffix``.

    Returns the ``names.NameCheck``; raises ``ValidationError({"label"|"suffix": ...})``.
    """
    try:
        names.check_suffix_for_kind(suffix, unit.kind)
    except ValidationError as exc:
        raise ValidationError({"suffix": exc.messages}) from None
    try:
        checked = names.validate_label(raw_label, suffix=suffix)
    except ValidationError as exc:
        raise ValidationError({"label": exc.messages}) from None

    candidates = {checked.label, *checked.variants}
    reserved = ReservedName.objects.filter(label__in=candidates, suffix__in=[suffix, ""]).first()
    if reserved:
        raise ValidationError({"label": f"“{reserved.label}{suffix}”为保留名称，不能申请。"})

    live = Domain.objects.live().filter(suffix=suffix).exclude(pk=exclude_pk)
    if live.filter(label=checked.label).exists():
        raise ValidationError({"label": f"“{checked.full}”已被注册或正在申请中。"})
    variant = live.filter(label__in=checked.variants).exclude(unit=unit).first()
    if variant:
        raise ValidationError(
            {"label": f"“{checked.full}”的简繁体变体“{variant.full_name}”已由其他单位注册或正在申请中。"}
        )
    return checked


def check_years(years):
    if not isinstance(years, int) or not MIN_YEARS <= years <= MAX_YEARS:
        raise ValidationError({"years": f"注册年限须为{MIN_YEARS}至{MAX_YEARS}年。"})


def _lock_name(checked):
    """Serialise applications for one name and its variants (PostgreSQL advisory lock).

    The unique constraint already stops two live rows with the same name; variants
    (政务/政務) are different strings, so two units racing for them are serialised here.
    """
    if connection.vendor != "postgresql":
        return  # SQLite serialises all writers anyway
    canonical = min({checked.label, *checked.variants}) + checked.suffix
    key = int.from_bytes(hashlib.blake2b(canonical.encode(), digest_size=8).digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def submit_domain_application(unit, *, label, suffix, years, actor, now=None):
    """域名申请 → 待审核, reviewed first by the unit's own office."""
    check_years(years)
    checked = check_name(unit, label, suffix)
    try:
        with transaction.atomic():
            _lock_name(checked)
            unit = Unit.objects.select_for_update().get(pk=unit.pk)
            checked = check_name(unit, label, suffix)  # again, now that the name is locked
            domain = Domain.objects.create(
                unit=unit,
                office_id=unit.office_id,
                label=checked.label,
                alabel=checked.alabel,
                suffix=checked.suffix,
                years=years,
                status=DomainStatus.PENDING_LOCAL,
                submitted_at=now or timezone.now(),
            )
            audit.record(
                domain,
                "域名申请",
                actor=actor,
                to_state=domain.get_status_display(),
                data={"alabel": checked.full_alabel, "years": years},
            )
    except IntegrityError:
        raise ValidationError({"label": f"“{checked.full}”已被注册或正在申请中。"}) from None
    return domain


def resubmit_domain_application(domain, *, label, suffix, years, actor, now=None):
    """The unit corrects a rejected application and submits it again (FAQ 一) → 待审核."""
    check_years(years)
    checked = check_name(domain.unit, label, suffix, exclude_pk=domain.pk)

    def apply_changes(locked):
        # Only the applicant's own account gets here: the review engine checks it on the locked row.
        again = check_name(locked.unit, label, suffix, exclude_pk=locked.pk)
        changed = {}
        for field, value in (
            ("label", again.label),
            ("alabel", again.alabel),
            ("suffix", again.suffix),
            ("years", years),
        ):
            if getattr(locked, field) != value:
                changed[field] = [getattr(locked, field), value]
                setattr(locked, field, value)
        # The office may have changed since (the unit moved): the new round goes to today's office.
        locked.office_id = locked.unit.office_id
        return changed

    try:
        with transaction.atomic():
            _lock_name(checked)
            return review.resubmit(domain, actor=actor, now=now, apply_changes=apply_changes)
    except IntegrityError:
        raise ValidationError({"label": f"“{checked.full}”已被注册或正在申请中。"}) from None


def domain_review_passed(domain, tier, actor):
    """Hook of the review engine: CONAC's approval tells the unit to pay its office."""
    if tier == Tier.CONAC:
        hooks.run(hooks.domain_approved, domain, actor)
        unit = domain.unit
        notices.queue(
            "domain_approved",
            key=f"domain:{domain.public_id}:approved:{domain.review_round}",
            context={"unit": unit, "domain": domain, "office": unit.office},
            sms_to=unit.contact_mobile,
            email_to=unit.contact_email,
        )


def domain_review_rejected(domain, tier, actor, opinion):
    """Hook of the review engine: the unit learns why, and may correct and re-submit."""
    unit = domain.unit
    notices.queue(
        "domain_rejected",
        key=f"domain:{domain.public_id}:rejected:{domain.review_round}:{int(tier)}",
        context={"unit": unit, "domain": domain, "reason": opinion, "tier": Tier(tier).label},
        sms_to=unit.contact_mobile,
        email_to=unit.contact_email,
    )


def delete_domain(domain, *, reason, actor, now=None):
    """删除域名: the unit's own office marks the domain deleted; it stays in history."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("删除域名必须填写删除原因。")
    with transaction.atomic():
        locked = Domain.objects.select_for_update().get(pk=domain.pk)
        if getattr(actor, "role", None) != "office" or locked.office_id != actor.office_id:
            raise DomainError(f"“{locked.full_name}”不属于本编办管理，不能删除。")
        if locked.status == DomainStatus.DELETED:
            raise DomainError(f"“{locked.full_name}”已删除。")
        before = locked.get_status_display()
        check_transition(locked.status, DomainStatus.DELETED, "office")
        locked.status = DomainStatus.DELETED
        locked.deleted_at = now or timezone.now()
        locked.delete_reason = reason
        locked.save(update_fields=["status", "deleted_at", "delete_reason", "updated_at"])
        audit.record(
            locked, "删除域名", actor=actor, from_state=before, to_state=locked.get_status_display(), reason=reason
        )
        hooks.run(hooks.domain_deleted, locked, actor, reason)
    return locked
