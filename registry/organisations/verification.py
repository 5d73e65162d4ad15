"""Proving the contacts typed at 新用户注册: the mobile's 验证码, the email's confirmation link,
and the check conac.notices makes before it writes to an address.

The writes that use these (sending a code, registering with it, confirming an email) are in
``services.py``; this module holds the pieces they share and that tests read.
"""

import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import Unit, User

CODE_DIGITS = 6
_CODE_SALT = "registry.organisations.mobile-code"
_EMAIL_SALT = "registry.organisations.contact-email"


def new_code():
    """Six random digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(mobile, code, sent_at):
    """A keyed hash (SECRET_KEY) of the code for this number and this send.

    Keyed, because a plain hash of six digits is reversed by trying all 10⁶ of them; bound to the
    number and the send time, so a code is only ever good for the send that produced it.
    """
    return salted_hmac(_CODE_SALT, f"{mobile}|{sent_at.timestamp():.6f}|{code}", algorithm="sha256").hexdigest()


def code_matches(verification, code):
    if not verification.code_hash or verification.sent_at is None:
        return False
    return constant_time_compare(verification.code_hash, code_hash(verification.mobile, code, verification.sent_at))


def code_ttl():
    return timedelta(seconds=settings.REGISTRATION_CODE_TTL)


# --- The email's confirmation link ---------------------------------------------------------------


def email_token(unit, *, now=None):
    """A signed token naming the unit, the address it confirms and when it was issued."""
    issued = int((now or timezone.now()).timestamp())
    return signing.Signer(salt=_EMAIL_SALT).sign_object(
        {"u": str(unit.public_id), "e": unit.contact_email, "t": issued}
    )


class BadToken(Exception):
    """The link was altered or is not one of ours."""


def read_email_token(token):
    """``(public_id, email, issued_at)`` from a token; raises ``BadToken`` if its signature fails."""
    try:
        data = signing.Signer(salt=_EMAIL_SALT).unsign_object(token)
        return data["u"], data["e"], datetime.fromtimestamp(int(data["t"]), tz=UTC)
    except (signing.BadSignature, KeyError, TypeError, ValueError, OverflowError):
        raise BadToken from None


def is_genuine_email_token(token):
    try:
        read_email_token(token)
    except BadToken:
        return False
    return True


def email_token_expired(issued_at, *, now=None):
    return (now or timezone.now()) - issued_at > timedelta(days=settings.REGISTRATION_EMAIL_CONFIRM_DAYS)


# --- What conac.notices asks before writing to an address -----------------------------------------


def unverified_recipients(channel, recipients):
    """The recipients a notice must skip: their owner has not proven the address is theirs.

    ``settings.NOTICE_UNVERIFIED_RECIPIENTS`` names this function; conac.notices calls it for every
    notice it queues. An email is held back while it is the 联系人邮箱 of a unit that has not
    opened its confirmation link, unless someone has vouched for the same address: a unit that did
    confirm it, or a staff account (so a stranger who types 编办 staff's address at 新用户注册
    cannot silence the office's notices). Mobiles are never held back: 新用户注册 requires the
    number's 验证码 before the unit exists, and every other mobile is typed by staff.
    """
    if channel != "email":
        return set()
    by_address = {r.strip().lower(): r for r in recipients if r}
    if not by_address:
        return set()
    units = Unit.objects.annotate(lowered_email=Lower("contact_email"))
    waiting = set(
        units.filter(contact_email_verified=False, lowered_email__in=by_address).values_list("lowered_email", flat=True)
    )
    if not waiting:
        return set()
    vouched = set(
        units.filter(contact_email_verified=True, lowered_email__in=waiting).values_list("lowered_email", flat=True)
    )
    vouched |= set(
        User.objects.exclude(role=User.Role.UNIT)
        .filter(is_active=True)
        .annotate(lowered_email=Lower("email"))
        .filter(lowered_email__in=waiting)
        .values_list("lowered_email", flat=True)
    )
    return {by_address[address] for address in waiting - vouched}
