"""Writes to units and accounts. Each is one transaction with its audit entry."""

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from conac import audit, notices, ratelimit, sms
from registry.domains import hooks
from registry.models import DomainStatus, Unit, User

from . import verification
from .models import MobileVerification
from .validators import display_mobile

log = logging.getLogger(__name__)

UNIT_FIELDS = (
    "name", "kind", "credit_code", "region", "level", "address", "leader", "contact",
    "contact_mobile", "contact_email", "office_phone", "handler", "handler_id_number",
)  # fmt: skip


class TransitionError(Exception):
    """A change that the rules do not allow; the message is shown to the user."""


class WrongCode(Exception):
    """The 验证码 does not prove the 联系人手机; the message is shown at the 短信验证码 field."""


class CodeRefused(Exception):
    """获取验证码 refused (too soon, or a daily cap reached); the message is shown to the user."""


class EmailLinkError(Exception):
    """A confirmation link that cannot confirm (altered, used, for an address since changed)."""


class EmailLinkExpired(EmailLinkError):
    """A genuine confirmation link past its validity: a new one may be sent."""


def register_unit(*, username, password, unit_data, actor=None):
    """Create a unit and its account with contacts taken as proven (demo data, tests, imports).

    The public 新用户注册 page goes through :func:`register_with_mobile_code`.
    """
    with transaction.atomic():
        return _create_unit(username=username, password=password, unit_data=unit_data, actor=actor)


def _create_unit(*, username, password, unit_data, actor, email_verified=True):
    """The unit and its account; the unit learns which office reviews it."""
    office = Unit.reviewing_office_for(unit_data["level"], unit_data["region"])
    unit = Unit(office=office, contact_email_verified=email_verified, **{f: unit_data.get(f, "") for f in UNIT_FIELDS})
    unit.save()
    user = User(username=username, role=User.Role.UNIT, unit=unit, email=unit.contact_email)
    user.set_password(password)
    user.save()
    audit.record(
        unit,
        "新用户注册",
        actor=actor or user,
        to_state="已注册",
        data={
            "username": username,
            "office": office.name,
            "credit_code": unit.credit_code,
            "contact_email_verified": email_verified,
        },
    )
    # An unconfirmed email is skipped here by conac.notices: the SMS goes to the proven mobile.
    notices.queue(
        "unit_registered",
        key=f"unit:{unit.public_id}:registered",
        context={"unit": unit, "username": username, "office": office},
        sms_to=unit.contact_mobile,
        email_to=unit.contact_email,
    )
    return unit


# --- 新用户注册 from the public page: the mobile's 验证码, the email's link -----------------------


@dataclass
class SentCode:
    """A 验证码 on its way; ``delivered`` is None until the transaction commits and the SMS is sent."""

    mobile: str
    expires_at: datetime
    delivered: bool | None = None

    @property
    def mobile_display(self):
        return display_mobile(self.mobile)

    def deliver(self, body):
        try:
            sms.get_backend().send(self.mobile, body)
        except (sms.TransientSendError, sms.PermanentSendError, OSError) as exc:
            log.warning("verification code to %s not sent: %s", self.mobile, exc)
            self.delivered = False
        else:
            self.delivered = True


def send_registration_code(mobile, *, client_address, now=None):
    """获取验证码: a new 6-digit code to ``mobile`` (E.164) for 新用户注册.

    Refused (``CodeRefused``) within REGISTRATION_CODE_RESEND_SECONDS of the number's last code and
    past the daily caps of the number and of the client address. The number's row is locked, so two
    simultaneous requests send one code. The SMS goes to the backend when the transaction commits,
    not through conac.notices: a notice row would keep the code in clear, and its retries run far
    past the code's few minutes.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    address_key = f"{client_address}:{today.isoformat()}"
    if ratelimit.wait_seconds("registration-code", address_key, limit=settings.REGISTRATION_CODE_DAILY_PER_ADDRESS):
        raise CodeRefused("本网络地址今日获取验证码次数已达上限，请明日再试。")
    ttl = verification.code_ttl()
    sent = SentCode(mobile=mobile, expires_at=now + ttl)
    with transaction.atomic():
        row, _ = MobileVerification.objects.select_for_update().get_or_create(mobile=mobile)
        interval = settings.REGISTRATION_CODE_RESEND_SECONDS
        if row.sent_at and (now - row.sent_at).total_seconds() < interval:
            wait = math.ceil(interval - (now - row.sent_at).total_seconds())
            raise CodeRefused(f"验证码已发送到该手机，请{wait}秒后再重新获取。")
        sent_today = row.sends_that_day if row.sent_on == today else 0
        if sent_today >= settings.REGISTRATION_CODE_DAILY_PER_MOBILE:
            raise CodeRefused("该手机号码今日获取验证码次数已达上限，请明日再试。")
        code = verification.new_code()
        row.code_hash = verification.code_hash(mobile, code, now)
        row.sent_at = now
        row.expires_at = now + ttl
        row.failed_attempts = 0
        row.sent_on = today
        row.sends_that_day = sent_today + 1
        row.client_address = client_address[:64]
        row.save()
        body = render_to_string(
            "notices/registration_code.sms.txt", {"code": code, "minutes": int(ttl.total_seconds()) // 60}
        ).strip()
        transaction.on_commit(lambda: sent.deliver(body))
    ratelimit.count("registration-code", address_key, window=24 * 60 * 60)
    return sent


def register_with_mobile_code(*, username, password, unit_data, mobile_code, site_url, now=None):
    """新用户注册 from the public page: the 验证码 proves the 联系人手机, then the unit and account.

    The code is good once, for the number it was sent to, until it expires or has been entered
    wrongly REGISTRATION_CODE_MAX_TRIES times; a wrong entry is counted even though nothing else is
    written. The 联系人邮箱 stays unconfirmed (no notices go there) until the link sent to it is
    opened. Raises ``WrongCode`` with the message for the 短信验证码 field.
    """
    now = now or timezone.now()
    mobile = unit_data["contact_mobile"]
    with transaction.atomic():
        row = MobileVerification.objects.select_for_update().filter(mobile=mobile).first()
        problem = _code_problem(row, mobile_code, now)
        if problem is None:
            row.code_hash = ""
            row.expires_at = None
            row.failed_attempts = 0
            row.save(update_fields=["code_hash", "expires_at", "failed_attempts"])
            unit = _create_unit(
                username=username, password=password, unit_data=unit_data, actor=None, email_verified=False
            )
            _queue_email_confirmation(unit, site_url=site_url, now=now)
        elif problem == _WRONG:
            row.failed_attempts += 1
            row.save(update_fields=["failed_attempts"])
            left = settings.REGISTRATION_CODE_MAX_TRIES - row.failed_attempts
            problem = (
                f"验证码不正确，请核对短信中的6位数字（还可输入{left}次）。"
                if left > 0
                else "验证码不正确，输错次数已达上限，请重新获取验证码。"
            )
    if problem is not None:
        raise WrongCode(problem)
    return unit


_WRONG = object()


def _code_problem(row, code, now):
    """None when ``code`` proves the number, ``_WRONG`` for a wrong guess, else the message."""
    if row is None or not row.code_hash:
        return "请先点击“获取验证码”，验证码将以短信发送到上面填写的联系人手机。"
    if row.failed_attempts >= settings.REGISTRATION_CODE_MAX_TRIES:
        return "验证码输错次数已达上限，请重新获取验证码。"
    if row.expires_at is None or now >= row.expires_at:
        return "验证码已过期，请重新获取。"
    if not verification.code_matches(row, code):
        return _WRONG
    return None


def _queue_email_confirmation(unit, *, site_url, now):
    """The link that confirms the 联系人邮箱: at most one a day per unit (the key has the date)."""
    token = verification.email_token(unit, now=now)
    return notices.queue(
        "contact_email_confirm",
        key=f"unit:{unit.public_id}:email-confirm:{timezone.localdate(now).isoformat()}",
        context={
            "url": urljoin(site_url, reverse("registry:confirm-email", args=[token])),
            "days": settings.REGISTRATION_EMAIL_CONFIRM_DAYS,
            "credit_code": unit.credit_code,
        },
        email_to=unit.contact_email,
        # The one message an unconfirmed address receives: it carries nothing the registrant typed
        # but the credit code, so it cannot be turned into a message in CONAC's name.
        to_unverified=True,
    )


def _unit_for_email_link(token):
    try:
        public_id, email, issued_at = verification.read_email_token(token)
    except verification.BadToken:
        raise EmailLinkError("链接无效，请检查是否完整复制了邮件中的链接。") from None
    unit = Unit.objects.select_for_update().filter(public_id=public_id).first()
    if unit is None or unit.contact_email.lower() != email.lower():
        raise EmailLinkError("该链接已失效：单位的联系人邮箱已变更。")
    if unit.contact_email_verified:
        raise EmailLinkError("该邮箱已确认，链接已失效，无需再次确认。")
    return unit, issued_at


def confirm_contact_email(token, *, now=None):
    """Open the confirmation link: the 联系人邮箱 is confirmed and notices go there from now on.

    Works once, for the address it was sent to, within REGISTRATION_EMAIL_CONFIRM_DAYS.
    """
    now = now or timezone.now()
    with transaction.atomic():
        unit, issued_at = _unit_for_email_link(token)
        if verification.email_token_expired(issued_at, now=now):
            raise EmailLinkExpired(
                f"链接已过期（有效期{settings.REGISTRATION_EMAIL_CONFIRM_DAYS}天），请重新发送确认邮件。"
            )
        unit.contact_email_verified = True
        unit.save(update_fields=["contact_email_verified", "updated_at"])
        audit.record(unit, "确认联系人邮箱", actor=None, data={"contact_email": unit.contact_email})
    return unit


def resend_email_confirmation(token, *, site_url, now=None):
    """A new link for an expired one; at most one a day per unit. Returns whether one was queued."""
    now = now or timezone.now()
    with transaction.atomic():
        unit, _ = _unit_for_email_link(token)
        return bool(_queue_email_confirmation(unit, site_url=site_url, now=now))


def report_credit_code_claim(unit, *, claimant, now=None):
    """A 新用户注册 named the credit code of ``unit``: tell its office, which corrects it with 修改.

    At most once a day per unit (the notice key has the date), so repeated attempts cannot flood
    the office; the audit entry is written with the notice. ``claimant`` holds what the applicant
    typed (unproven). Returns the number of notices queued.
    """
    now = now or timezone.now()
    key = f"unit:{unit.public_id}:credit-code-claim:{timezone.localdate(now).isoformat()}"
    staff_emails = (
        User.objects.filter(role=User.Role.OFFICE, office_id=unit.office_id, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    context = {"unit": unit, "office": unit.office, "claimant": claimant, "at": timezone.localtime(now)}
    with transaction.atomic():
        queued = []
        for email in staff_emails:
            queued += notices.queue("credit_code_claimed", key=key, context=context, email_to=email)
        if queued:
            audit.record(unit, "重复注册提示", actor=None, data={"claimant": claimant, "notified": len(queued)})
    return len(queued)


def update_unit(unit, *, unit_data, actor, new_password=""):
    """修改: office staff change a unit's information (and, if given, reset its password).

    The reviewing office follows the new level + region.
    """
    with transaction.atomic():
        unit = Unit.objects.select_for_update().get(pk=unit.pk)
        before = {f: _plain(getattr(unit, f)) for f in UNIT_FIELDS}
        before_office_id = unit.office_id
        for field in UNIT_FIELDS:
            setattr(unit, field, unit_data.get(field, ""))
        if unit.contact_email.lower() != before["contact_email"].lower():
            # The office typed this address: it vouches for it as it does for a unit it creates.
            unit.contact_email_verified = True
        _require_complete(unit)
        unit.office = Unit.reviewing_office_for(unit.level, unit.region)
        unit.save()
        if before_office_id != unit.office_id:
            # The new 同级编办 manages the unit's domains from now on (reviews what is
            # waiting, collects what is unpaid, renews); money already collected stays
            # with the office that collected it.
            unit.domains.exclude(status=DomainStatus.DELETED).update(office=unit.office)
            hooks.run(hooks.unit_office_changed, unit, before_office_id, actor)
        after = {f: _plain(getattr(unit, f)) for f in UNIT_FIELDS}
        changed = {f: [before[f], after[f]] for f in UNIT_FIELDS if before[f] != after[f]}
        audit.record(unit, "修改单位信息", actor=actor, data={"changed": changed})
        if changed:
            hooks.run(hooks.unit_changed, unit, changed, actor)
        if unit.account.email != unit.contact_email:
            unit.account.email = unit.contact_email
            unit.account.save(update_fields=["email"])
        if new_password:
            _set_unit_password(unit, new_password, actor)
    return unit


def reset_unit_password(unit, *, new_password, actor):
    """重置密码: the unit's office sets a new password (the unit forgot its own)."""
    with transaction.atomic():
        unit = Unit.objects.select_for_update().get(pk=unit.pk)
        _require_complete(unit)
        _set_unit_password(unit, new_password, actor)
    return unit


def _require_complete(unit):
    # The manual: "必须将所有带*号的信息完善后才能修改成功".
    if any(not getattr(unit, "region_id" if f == "region" else f) for f in Unit.REQUIRED_FIELDS):
        raise TransitionError("必须将所有带*号的信息完善后才能修改成功")


def _set_unit_password(unit, new_password, actor):
    user = User.objects.select_for_update().get(unit=unit)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    entry = audit.record(unit, "重置密码", actor=actor, data={"username": user.username})
    notices.queue(
        "password_reset",
        key=f"unit:{unit.public_id}:password-reset:{entry.pk}",
        context={"unit": unit, "username": user.username, "office": unit.office},
        sms_to=unit.contact_mobile,
        email_to=unit.contact_email,
    )


def change_own_password(user, *, new_password):
    """修改密码: anyone changes their own password."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit.record(user, "修改密码", actor=user)
    return user


def _plain(value):
    return getattr(value, "pk", value)
