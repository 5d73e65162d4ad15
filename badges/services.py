"""Writes of the badge applications: submit, re-submit, the review hooks, the paper step, issuing.

Each function is one transaction with a row lock and an audit entry; the two review
tiers go through the one engine in ``review.services``. The PDFs of the paper step are
made by a Celery task after CONAC's approval commits, so a failed rendering never holds
up the approval; the task is idempotent (a second run finds the files and stops).
"""

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from conac import audit, notices
from conac.workdays import add_workdays
from registry.models import Domain, DomainStatus, Unit, UnitKind, UnitLevel
from review import services as review
from review.models import Tier

from .models import (
    OPEN_STATES,
    ApplicationKind,
    ApplicationStatus,
    Badge,
    BadgeKind,
    BadgeStatus,
    WebsiteApplication,
    check_application_transition,
)

A = ApplicationStatus
HANG_DEADLINE_WORKDAYS = 5  # 附件1 五: the badge is hung within 5 working days of the notice
PAPER_DEADLINE_WORKDAYS = 10  # the office's paper review (RECIPES: reported practice)
ORGAN_SUFFIX = ".政务"
PUBLIC_WELFARE_SUFFIX = ".公益"


class ApplicationError(Exception):
    """A request the rules refuse as a whole; the message is shown to the user."""

    def __init__(self, message, *, link_name=None, link_label=None, field=None):
        super().__init__(message)
        self.link_name = link_name
        self.link_label = link_label
        self.field = field  # the form field the refusal belongs to (None: the form as a whole)


# --- Who may apply -------------------------------------------------------------------


def kinds_for(unit):
    """The application kinds a unit may open: organs the website review, the others the badge."""
    if unit.kind == UnitKind.ORGAN:
        return [ApplicationKind.OPENING, ApplicationKind.RECHECK]
    return [ApplicationKind.BADGE]


def suffix_for(kind):
    return PUBLIC_WELFARE_SUFFIX if kind == ApplicationKind.BADGE else ORGAN_SUFFIX


def check_eligible(unit, kind):
    """Raise ApplicationError naming the missing step (and where to take it) unless the unit may apply."""
    if kind not in kinds_for(unit):
        if kind == ApplicationKind.BADGE:
            raise ApplicationError(
                "党政机关无需单独申请标识，请通过“网站开办审核/资质复核申请”办理。",
                link_name="badges:website-apply",
                link_label="网站开办审核/资质复核申请",
            )
        raise ApplicationError(
            "网站开办审核/资质复核仅适用于党政机关；事业单位和社会组织请在“网上名称管理——标识申请”中申请网站标识。",
            link_name="badges:badge-apply",
            link_label="标识申请",
        )
    suffix = suffix_for(kind)
    domains = Domain.objects.filter(unit=unit, suffix=suffix).exclude(status=DomainStatus.DELETED)
    if domains.filter(status=DomainStatus.ACTIVE).exists():
        return
    waiting = domains.exclude(status__in=[DomainStatus.REJECTED, DomainStatus.EXPIRED]).order_by("id").first()
    if waiting is not None:
        raise ApplicationError(
            f"您的“{suffix}”域名“{waiting.full_name}”当前状态为“{waiting.get_status_display()}”，注册成功后才能申请。",
            link_name="registry:my-domains",
            link_label="网上名称管理——域名业务管理——我的域名",
        )
    expired = domains.filter(status=DomainStatus.EXPIRED).order_by("id").first()
    if expired is not None:
        # The step left is a renewal (the office's 续费), not a registration.
        raise ApplicationError(
            f"您的“{suffix}”域名“{expired.full_name}”已过期，请联系同级编办续费，续费成功后才能申请。",
            link_name="registry:my-domains",
            link_label="网上名称管理——域名业务管理——我的域名",
        )
    raise ApplicationError(
        f"申请前须先注册“{suffix}”域名：请在“网上名称管理——域名申请”中提交域名申请，经审核、缴费并注册成功后再来申请。",
        link_name="registry:domain-apply",
        link_label="网上名称管理——域名申请",
    )


def live_domains_for(unit, kind):
    return Domain.objects.filter(unit=unit, suffix=suffix_for(kind), status=DomainStatus.ACTIVE).order_by("label")


# --- Submitting ------------------------------------------------------------------------

FIELDS = (
    "kind",
    "site_name",
    "domain",
    "english_domain",
    "mount_method",
    "server_ip",
    "home_url",
    "description",
    "functions",
    "contact_name",
    "contact_mobile",
    "contact_email",
)


def _check_site(unit, data, *, exclude_pk=None):
    domain = data["domain"]
    if domain.unit_id != unit.pk or domain.status != DomainStatus.ACTIVE or domain.suffix != suffix_for(data["kind"]):
        raise ApplicationError(f"中文域名须为本单位注册成功的“{suffix_for(data['kind'])}”域名。", field="domain")
    open_ = WebsiteApplication.objects.filter(domain=domain, status__in=OPEN_STATES).exclude(pk=exclude_pk).first()
    if open_ is not None:
        raise ApplicationError(
            f"网站“{domain.full_name}”已有一份{open_.get_status_display()}的{open_.get_kind_display()}，不能重复申请。",
            field="domain",
        )
    live_badge = Badge.objects.filter(domain=domain).exclude(status=BadgeStatus.REVOKED).first()
    if data["kind"] == ApplicationKind.RECHECK and live_badge is None:
        raise ApplicationError(
            "资格复核须针对已发放网站标识的网站；该网站尚无标识，请选择“网站开办审核”。", field="kind"
        )
    if data["kind"] == ApplicationKind.BADGE and live_badge is not None:
        # 事业单位/社会组织 have no 资格复核 to turn to: the site simply has its badge.
        raise ApplicationError(
            f"网站“{domain.full_name}”已有网站标识（{live_badge.code}），不能重复申请。", field="domain"
        )
    if data["kind"] == ApplicationKind.OPENING and live_badge is not None:
        raise ApplicationError(
            f"网站“{domain.full_name}”已有网站标识（{live_badge.code}），如需复核请选择“资格复核”。", field="kind"
        )


def submit_application(unit, *, actor, now=None, **data):
    """点击申请 → 提交申请: a new application, 待审核 at the unit's own office."""
    with transaction.atomic():
        unit = Unit.objects.select_for_update().get(pk=unit.pk)
        if getattr(actor, "unit_id", None) != unit.pk:
            raise ApplicationError("只能为本单位提交申请。")
        check_eligible(unit, data["kind"])
        _check_site(unit, data)
        application = WebsiteApplication.objects.create(
            unit=unit,
            office_id=unit.office_id,
            status=A.PENDING_LOCAL,
            submitted_at=now or timezone.now(),
            **{k: v for k, v in data.items() if k in FIELDS},
        )
        audit.record(
            application,
            "提交申请",
            actor=actor,
            to_state=application.get_status_display(),
            data={"kind": application.get_kind_display(), "domain": application.domain.full_name},
        )
    return application


def resubmit_application(application, *, actor, now=None, **data):
    """The unit corrects a rejected application and submits it again → 待审核."""

    def apply_changes(locked):
        # The unit's row lock, as submit_application takes it: a new application for the site
        # the re-submission moves to waits, then finds this one open (no IntegrityError).
        unit = Unit.objects.select_for_update().get(pk=locked.unit_id)
        _check_site(unit, {**data, "kind": locked.kind}, exclude_pk=locked.pk)
        changed = {}
        for field, value in data.items():
            if field in FIELDS and field != "kind" and getattr(locked, field) != value:
                changed[field] = [str(getattr(locked, field)), str(value)]
                setattr(locked, field, value)
        locked.office_id = locked.unit.office_id  # the unit may have moved since
        return changed

    return review.resubmit(application, actor=actor, now=now, apply_changes=apply_changes)


# --- Review hooks (inside the engine's transaction) --------------------------------------


def application_review_passed(application, tier, actor):
    if tier != Tier.CONAC:
        return
    application.conac_approved_at = timezone.now()
    application.save(update_fields=["conac_approved_at"])
    unit = application.unit
    if application.needs_paper:
        # robust: a broker or rendering failure is logged, never turns the approval into an error.
        transaction.on_commit(lambda: _queue_documents(application.pk), robust=True)
        notices.queue(
            "application_paper",
            key=f"application:{application.public_id}:paper",
            context={"unit": unit, "application": application, "office": application.office},
            sms_to=application.contact_mobile,
            email_to=application.contact_email,
        )
    else:
        issue_badge(application, actor=actor)


def _queue_documents(application_id):
    from .tasks import generate_application_documents

    generate_application_documents.delay(application_id)


def application_review_rejected(application, tier, actor, opinion):
    notices.queue(
        "application_rejected",
        key=f"application:{application.public_id}:rejected:{application.review_round}:{int(tier)}",
        context={"unit": application.unit, "application": application, "reason": opinion, "tier": Tier(tier).label},
        sms_to=application.contact_mobile,
        email_to=application.contact_email,
    )


# --- The paper step (党政机关) -------------------------------------------------------------


def _lock_for_paper(application, actor):
    locked = WebsiteApplication.objects.select_for_update().select_related("unit", "domain").get(pk=application.pk)
    if getattr(actor, "role", None) != "office" or locked.office_id != actor.office_id:
        raise ApplicationError("只有申报单位的同级编办可以确认报送资料。")
    if locked.status != A.AWAITING_PAPER:
        raise ApplicationError(f"该申请当前状态为“{locked.get_status_display()}”，已由其他人员处理或无需资料确认。")
    return locked


def confirm_paper(application, *, actor, now=None):
    """资料确认: the paper matches; the badge is issued in the same transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_for_paper(application, actor)
        check_application_transition(locked.status, A.ISSUED, "office")
        if locked.kind == ApplicationKind.RECHECK:
            current = (
                Badge.objects.select_for_update()
                .filter(domain_id=locked.domain_id)
                .exclude(status=BadgeStatus.REVOKED)
                .order_by("-issued_at")
                .first()
            )
            if current is not None:
                return _recheck_confirmed(locked, current, actor=actor, now=now)
        badge = issue_badge(locked, actor=actor, now=now, from_paper=True)
    return badge


def _recheck_confirmed(application, badge, *, actor, now):
    """资格复核 passed: the site keeps its badge and code; no second badge is issued."""
    application.status = A.ISSUED
    application.paper_decided_at = now
    application.confirmed_badge = badge
    application.save(update_fields=["status", "paper_decided_at", "confirmed_badge", "updated_at"])
    audit.record(
        application,
        "资料确认，资格复核通过",
        actor=actor,
        from_state="待资料确认",
        to_state=application.get_status_display(),
        data={"code": badge.code},
    )
    notices.queue(
        "application_rechecked",
        key=f"application:{application.public_id}:rechecked",
        context={"unit": application.unit, "badge": badge, "application": application},
        sms_to=application.contact_mobile,
        email_to=application.contact_email,
    )
    return badge


def reject_paper(application, *, reason, actor, now=None):
    """资料不符: closed with its reason; the unit must submit a new application (附件1 四)."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("资料不符时必须填写原因。")
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_for_paper(application, actor)
        check_application_transition(locked.status, A.PAPER_MISMATCH, "office")
        locked.status = A.PAPER_MISMATCH
        locked.paper_reason = reason
        locked.paper_decided_at = now
        locked.save(update_fields=["status", "paper_reason", "paper_decided_at", "updated_at"])
        audit.record(locked, "资料不符", actor=actor, from_state="待资料确认", to_state="资料不符", reason=reason)
        notices.queue(
            "application_paper_mismatch",
            key=f"application:{locked.public_id}:paper-mismatch",
            context={"unit": locked.unit, "application": locked, "reason": reason},
            sms_to=locked.contact_mobile,
            email_to=locked.contact_email,
        )
    return locked


# --- Issuing -------------------------------------------------------------------------------


def region_digits(unit):
    """The code's 2+3+4 region digits from the unit's GB/T 2260 code (see README: 标识编号).

    Province PP = the code's first two digits; area AAA = 0 + the next two; county
    CCCC = 00 + the last two. 中央 units use province 10 and zeros, as in their
    统一社会信用代码 (region 100000).
    """
    if unit.level == UnitLevel.CENTRAL:
        return "10" + "000" + "0000"
    code = unit.region.code
    return code[:2] + "0" + code[2:4] + "00" + code[4:6]


def badge_code(unit, site_sequence):
    if unit.pk >= 10**8 or site_sequence >= 10**4:
        raise ApplicationError("标识编号超出编码范围，请联系系统管理员。")
    return f"CA{region_digits(unit)}{unit.pk:08d}{site_sequence:04d}"


def issue_badge(application, *, actor, now=None, from_paper=False):
    """The badge for an approved application: code, kind, deadline; the unit is told how to hang it."""
    now = now or timezone.now()
    unit = Unit.objects.select_for_update().select_related("region").get(pk=application.unit_id)
    before = application.get_status_display()
    role = "office" if from_paper else "conac"
    check_application_transition(application.status if from_paper else A.PENDING_CONAC, A.ISSUED, role)
    # Sequences only grow (revoked badges keep theirs), so a code is never given twice.
    last = Badge.objects.filter(unit=unit).order_by("-site_sequence").values_list("site_sequence", flat=True).first()
    sequence = (last or 0) + 1
    badge = Badge.objects.create(
        code=badge_code(unit, sequence),
        unit=unit,
        office_id=application.office_id,
        application=application,
        kind=BadgeKind.RED if unit.kind == UnitKind.ORGAN else BadgeKind.BLUE,
        site_name=application.site_name,
        domain_id=application.domain_id,
        english_domain=application.english_domain,
        home_url=application.home_url,
        mount_method=application.mount_method,
        site_sequence=sequence,
        issued_at=now,
        deadline=add_workdays(timezone.localdate(now), HANG_DEADLINE_WORKDAYS),
    )
    application.status = A.ISSUED
    fields = ["status", "updated_at"]
    if from_paper:
        application.paper_decided_at = now
        fields.append("paper_decided_at")
    application.save(update_fields=fields)
    audit.record(
        application,
        "资料确认，发放标识" if from_paper else "发放标识",
        actor=actor,
        from_state=before if from_paper else "",
        to_state=application.get_status_display(),
        data={"code": badge.code},
    )
    audit.record(badge, "发放标识", actor=actor, to_state=badge.get_status_display(), data={"code": badge.code})
    notices.queue(
        "badge_issued",
        key=f"badge:{badge.code}:issued",
        context={"unit": unit, "badge": badge, "application": application},
        sms_to=application.contact_mobile,
        email_to=application.contact_email,
    )
    from . import public

    # A code looked up before it existed was cached as unknown: every process forgets it now.
    transaction.on_commit(lambda: public.badge_changed(badge), robust=True)
    return badge


# --- Documents -----------------------------------------------------------------------------


def generate_documents(application_id):
    """申请函 and 申请表 as PDFs in the document storage; once only, however often it runs."""
    from conac.pdf import render_pdf

    with transaction.atomic():
        application = (
            WebsiteApplication.objects.select_for_update()
            .select_related("unit", "unit__region", "office", "domain")
            .get(pk=application_id)
        )
        if not application.needs_paper or (application.letter_pdf and application.form_pdf):
            return False
        context = {"application": application, "unit": application.unit, "today": timezone.localdate()}
        if not application.letter_pdf:
            pdf = render_pdf("badges/letter.html", context)
            application.letter_pdf.save(f"{application.public_id}-letter.pdf", ContentFile(pdf), save=False)
        if not application.form_pdf:
            pdf = render_pdf("badges/form.html", context)
            application.form_pdf.save(f"{application.public_id}-form.pdf", ContentFile(pdf), save=False)
        application.save(update_fields=["letter_pdf", "form_pdf", "updated_at"])
    return True


# --- After issue: hung, overdue, revoked ------------------------------------------------------


def mark_hung(badge, *, note, actor=None, now=None):
    """已发放 / 逾期未挂标 → 已挂标: the check found the snippet, or the red page was published.

    A badge already 已挂标 only has its miss count reset; a revoked one is left alone.
    Returns True when the state changed.
    """
    from . import public
    from .models import check_badge_transition

    now = now or timezone.now()
    with transaction.atomic():
        locked = Badge.objects.select_for_update().get(pk=badge.pk)
        if locked.status == BadgeStatus.HUNG:
            if locked.missed_checks:
                locked.missed_checks = 0
                locked.save(update_fields=["missed_checks"])
            return False
        if locked.status == BadgeStatus.REVOKED:
            return False
        before = locked.get_status_display()
        check_badge_transition(locked.status, BadgeStatus.HUNG, "system")
        locked.status = BadgeStatus.HUNG
        locked.hung_at = now
        locked.missed_checks = 0
        locked.save(update_fields=["status", "hung_at", "missed_checks"])
        audit.record(
            locked, "已挂标", actor=actor, from_state=before, to_state=locked.get_status_display(), reason=note
        )
        transaction.on_commit(public.badge_changed, robust=True)
    badge.status = locked.status
    return True


# --- The hang check, overdue badges, revocation ------------------------------------------------

# Two checks in a row that miss the snippet of a hung badge drop it back (issue 9).
MISSES_TO_DROP = 2


def _office_emails(office_id):
    from registry.models import User

    return list(
        User.objects.filter(role=User.Role.OFFICE, office_id=office_id, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )


def _notify_unit_and_office(badge, template, *, key, **context):
    """``template`` to the site's contact (SMS and email) and ``template``_office to its office's staff."""
    application = badge.application
    context = {"badge": badge, "unit": badge.unit, "office": badge.office, "application": application, **context}
    notices.queue(
        template, key=key, context=context, sms_to=application.contact_mobile, email_to=application.contact_email
    )
    for email in _office_emails(badge.office_id):
        notices.queue(f"{template}_office", key=key, context=context, email_to=email)


def _lock_badge(badge):
    badges = Badge.objects.select_for_update(of=("self",)).select_related("unit", "office", "application")
    return badges.get(pk=badge.pk)


def check_badge(badge, *, now=None):
    """挂标检查: fetch the badge's 网站首页地址, record what was seen, and move the badge's state.

    Found → 已挂标 (``mark_hung``). A hung badge not found counts a miss; the second miss
    in a row drops it back to 已发放 (deadline not yet passed) or 逾期未挂标, with a notice
    to the unit and its office; a site that cannot be reached (or is refused) is a miss too.
    Red-page badges are not fetched (publishing the red page hangs them) and revoked badges
    are left alone: both return None. The fetch runs before the transaction, so no row
    lock is held while a slow site answers.
    """
    from . import hangcheck, public
    from .models import HangCheck, MountMethod, check_badge_transition

    if badge.mount_method == MountMethod.RED_PAGE or badge.status == BadgeStatus.REVOKED:
        return None
    if badge.home_url:
        result = hangcheck.check_page(badge.home_url, badge.code)
    else:
        result = hangcheck.CheckResult(False, "未填写网站首页地址", None, 0, "")
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_badge(badge)
        check = HangCheck.objects.create(
            badge=locked,
            checked_at=now,
            url=result.url,
            found=result.found,
            http_status=result.http_status,
            note=result.note,
            bytes_read=result.bytes_read,
        )
        locked.last_checked_at = now
        locked.last_check_found = result.found
        locked.last_check_note = result.note
        locked.save(update_fields=["last_checked_at", "last_check_found", "last_check_note"])
        if locked.status == BadgeStatus.REVOKED:
            pass  # revoked while the page was fetched: the record stays, the state does not move
        elif result.found:
            mark_hung(locked, note=result.note, now=now)
        elif locked.status == BadgeStatus.HUNG:
            locked.missed_checks += 1
            fields = ["missed_checks"]
            if locked.missed_checks >= MISSES_TO_DROP:
                target = BadgeStatus.OVERDUE if timezone.localdate(now) > locked.deadline else BadgeStatus.ISSUED
                check_badge_transition(locked.status, target, "system")
                locked.status = target
                locked.hung_at = None
                locked.missed_checks = 0
                fields += ["status", "hung_at"]
                audit.record(
                    locked,
                    "连续两次未找到标识，取消挂标",
                    actor=None,
                    from_state=BadgeStatus.HUNG.label,
                    to_state=locked.get_status_display(),
                    reason=result.note,
                )
                _notify_unit_and_office(
                    locked, "badge_dropped", key=f"badge:{locked.code}:dropped:{check.pk}", check=check
                )
                transaction.on_commit(public.badge_changed, robust=True)
            locked.save(update_fields=fields)
    badge.refresh_from_db()
    return check


def badges_due_for_check(now=None):
    """Self-hosted badges the periodic check should fetch now.

    已发放 and 逾期未挂标: not checked within ``BADGE_CHECK_INTERVAL_HOURS``; 已挂标: not
    within ``BADGE_RECHECK_DAYS``. A tenth of the interval is forgiven, so a beat run a little
    early does not skip a badge for a whole round.
    """
    from datetime import timedelta

    from django.conf import settings
    from django.db.models import Q

    from .models import MountMethod

    now = now or timezone.now()
    waiting_since = now - timedelta(hours=settings.BADGE_CHECK_INTERVAL_HOURS) * 0.9
    hung_since = now - timedelta(days=settings.BADGE_RECHECK_DAYS) * 0.9
    waiting = Q(status__in=[BadgeStatus.ISSUED, BadgeStatus.OVERDUE]) & (
        Q(last_checked_at__isnull=True) | Q(last_checked_at__lt=waiting_since)
    )
    hung = Q(status=BadgeStatus.HUNG) & (Q(last_checked_at__isnull=True) | Q(last_checked_at__lt=hung_since))
    return (
        Badge.objects.filter(waiting | hung, mount_method=MountMethod.SELF_HOSTED)
        .exclude(home_url="")
        .order_by("last_checked_at", "pk")
    )


def mark_overdue_badges(today=None):
    """已发放 badges past their 挂标期限 → 逾期未挂标, each with a notice to the unit and its office.

    The deadline already counts working days (issue_badge), so "past" is a plain date
    comparison. Each badge is its own transaction; a second run finds nothing to do, and
    the notice key makes each notice go once.
    """
    from . import public
    from .models import check_badge_transition

    today = today or timezone.localdate()
    marked = 0
    due = Badge.objects.filter(status=BadgeStatus.ISSUED, deadline__lt=today).order_by("deadline", "pk")
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            locked = _lock_badge(Badge(pk=pk))
            # Hung or revoked since the list was read: nothing to do.
            if locked.status != BadgeStatus.ISSUED or not locked.deadline < today:
                continue
            check_badge_transition(locked.status, BadgeStatus.OVERDUE, "system")
            locked.status = BadgeStatus.OVERDUE
            locked.save(update_fields=["status"])
            audit.record(
                locked,
                "逾期未挂标",
                actor=None,
                from_state=BadgeStatus.ISSUED.label,
                to_state=locked.get_status_display(),
                data={"deadline": locked.deadline.isoformat()},
            )
            _notify_unit_and_office(locked, "badge_overdue", key=f"badge:{locked.code}:overdue")
            transaction.on_commit(public.badge_changed, robust=True)
        marked += 1
    return marked


def revoke_badge(badge, *, reason, actor, now=None):
    """撤销 (CONAC only, with a reason): → 已撤销 from any state; the public sees it at once.

    A badge already revoked is left as it is (a second click changes nothing): returns False.
    """
    from . import public
    from .models import check_badge_transition

    if getattr(actor, "role", None) != "conac":
        raise ApplicationError("只有CONAC可以撤销网站标识。")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("撤销网站标识必须填写撤销原因。", field="reason")
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_badge(badge)
        if locked.status == BadgeStatus.REVOKED:
            return False
        before = locked.get_status_display()
        check_badge_transition(locked.status, BadgeStatus.REVOKED, "conac")
        locked.status = BadgeStatus.REVOKED
        locked.revoked_at = now
        locked.revoke_reason = reason
        locked.save(update_fields=["status", "revoked_at", "revoke_reason"])
        audit.record(
            locked, "撤销标识", actor=actor, from_state=before, to_state=locked.get_status_display(), reason=reason
        )
        _notify_unit_and_office(locked, "badge_revoked", key=f"badge:{locked.code}:revoked")
        transaction.on_commit(lambda: public.badge_changed(locked), robust=True)
    badge.refresh_from_db()
    return True
