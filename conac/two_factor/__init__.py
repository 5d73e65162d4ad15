"""双重验证: the second sign-in step for office and CONAC staff and administrators.

After the password, staff who have bound an authenticator app (TOTP, any app) are asked for
its 6-digit 验证码, or one of their one-time 恢复码; with ``STAFF_2FA_REQUIRED`` on, staff
who have not bound one yet are sent to bind it first. Units are never asked.

django-otp's ``OTPMiddleware`` marks a session verified (``user.is_verified()``) once a
code was accepted in it; :class:`conac.access.AccessRuleMiddleware` sends staff who still
owe the step to it (see :func:`next_step`). This module is the policy; ``services`` changes
devices, ``views`` are the pages, ``admin`` is the administrator's reset.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

VERIFY = "verify"
ENROL = "enrol"


def applies_to(user):
    """Whether the user signs in with two factors at all: office and CONAC staff and anyone who
    may enter the admin. A unit's account never is, whatever its flags."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    role = getattr(user, "role", None)
    if role == "unit":
        return False
    return role in ("office", "conac") or user.is_staff or user.is_superuser


def is_enrolled(user):
    """A confirmed authenticator is bound (recovery codes alone do not count)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


def is_verified(user):
    """The session passed the second step (set by django-otp's middleware)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def next_step(user):
    """The second step a signed-in user still owes in this session: VERIFY, ENROL or None."""
    if not applies_to(user) or is_verified(user):
        return None
    # Once bound, the code is always asked for: otherwise the password alone would still open
    # the account whenever enforcement is off.
    if is_enrolled(user):
        return VERIFY
    if settings.STAFF_2FA_REQUIRED:
        return ENROL
    return None


def step_url(step, next_url=""):
    """The page of ``step``, carrying where to go afterwards."""
    url = reverse("two-factor-verify" if step == VERIFY else "two-factor")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url
