"""Binding an authenticator, recovery codes, checking a code, and the administrator's reset.

Devices are django-otp's: one confirmed ``TOTPDevice`` (the authenticator app) and one
``StaticDevice`` whose tokens are the one-time 恢复码. Every change writes an audit entry
on the user.
"""

import re
from base64 import b32encode
from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from conac import audit

from . import is_enrolled

RECOVERY_CODE_COUNT = 10
TOTP_CODE = re.compile(r"\d{6}")


class TwoFactorError(Exception):
    """A 双重验证 change that is not possible now; the message is shown to the user."""


@dataclass(frozen=True)
class Verification:
    device: object = None  # the device that accepted the code
    wait_seconds: int = 0  # django-otp's back-off after recent failures: the code was not tried


def secret_of(device):
    """The key as the authenticator apps take it by hand: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode("ascii")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalise_code(value):
    """What the user typed, as stored: no spaces or hyphens (codes are shown grouped), lower case."""
    return re.sub(r"[\s\-]", "", value or "").lower()


def enrolment_device(user):
    """The authenticator waiting for its first code; made on first use and kept, so that reloading
    the page does not change the QR code the user may already have scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=False)
    return device


@transaction.atomic
def confirm_enrolment(user, code, *, actor):
    """绑定: the app's first code confirms the waiting authenticator. It replaces any earlier one,
    and a fresh set of recovery codes replaces the old. Returns (device, codes), or None when the
    code is wrong."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
    if device is None or not TOTP_CODE.fullmatch(code):
        return None
    allowed, details = device.verify_is_allowed()
    if not allowed:
        raise TwoFactorError(f"尝试过于频繁，请{_seconds_until((details or {}).get('locked_until'))}秒后再试。")
    if not device.verify_token(code):
        return None
    replaced = TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()[0]
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    audit.record(user, "绑定双重验证", actor=actor, to_state="已绑定", data={"replaced": replaced})
    return device, codes


@transaction.atomic
def regenerate_recovery_codes(user, *, actor):
    """重新生成恢复码: a new set; the old codes stop working at once."""
    if not is_enrolled(user):
        raise TwoFactorError("请先绑定身份验证器。")
    codes = _new_recovery_codes(user)
    audit.record(user, "重新生成恢复码", actor=actor)
    return codes


def bound_device(user):
    """The confirmed authenticator, or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def verify_code(user, code):
    """Check a 验证码 (6 digits: the authenticator) or a 恢复码 (anything else; used up when
    accepted). Only the matching kind of device is tried, so a mistyped 验证码 does not slow
    down the recovery codes or the other way round."""
    code = normalise_code(code)
    model = TOTPDevice if TOTP_CODE.fullmatch(code) else StaticDevice
    # Row locks: two requests with the same code cannot both succeed (django-otp's own rule).
    with transaction.atomic():
        devices = list(model.objects.devices_for_user(user, confirmed=True).select_for_update())
        wait = 0
        for device in devices:
            allowed, details = device.verify_is_allowed()
            if not allowed:
                wait = max(wait, _seconds_until((details or {}).get("locked_until")))
                continue
            if device.verify_token(code):
                return Verification(device=device)
    return Verification(wait_seconds=wait)


@transaction.atomic
def reset_two_factor(user, *, actor, reason=""):
    """重置双重验证 (a lost phone): the user's authenticator and recovery codes are removed. Sessions
    verified with them lose that at once; the user binds a new authenticator at the next sign-in."""
    removed = {"身份验证器": _delete_all(TOTPDevice, user), "恢复码": _delete_all(StaticDevice, user)}
    audit.record(
        user,
        "重置双重验证",
        actor=actor,
        from_state="已绑定" if removed["身份验证器"] else "未绑定",
        to_state="未绑定",
        reason=reason,
        data=removed,
    )
    return removed


@transaction.atomic
def delete_device(device, *, actor):
    """One device removed in the admin (an authenticator, or the recovery codes)."""
    kind = "身份验证器" if isinstance(device, TOTPDevice) else "恢复码"
    user = device.user
    device.delete()
    audit.record(user, "删除双重验证设备", actor=actor, data={"device": kind})


def _delete_all(model, user):
    devices = list(model.objects.filter(user=user).select_for_update())
    for device in devices:
        device.delete()
    return len(devices)


def _new_recovery_codes(user):
    # The device is kept (only its tokens change): a session signed in with a recovery code
    # stays signed in after making new ones.
    device = StaticDevice.objects.select_for_update().filter(user=user).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name="恢复码", confirmed=True)
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.token_set.all().delete()
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return [f"{code[:4]}-{code[4:]}" for code in codes]


def _seconds_until(moment):
    from django.utils import timezone

    if moment is None:
        return 1
    return max(1, int((moment - timezone.now()).total_seconds()) + 1)
