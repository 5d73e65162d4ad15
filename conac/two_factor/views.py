"""双重验证 pages: bind an authenticator (绑定), the sign-in's second step (验证), recovery codes."""

import math

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from conac import forms_state, ratelimit
from conac.access import STAFF_OR_ADMIN, allow
from conac.navigation import back_url

from . import ENROL, VERIFY, is_enrolled, is_verified, next_step, services, step_url
from .forms import CodeForm

FAILURES = "two-factor-failures"


@allow(STAFF_OR_ADMIN, before_second_step=True)
@never_cache
def two_factor(request):
    """双重验证: bind an authenticator app (QR code, secret, first code), or, once bound, its state."""
    user = request.user
    next_url = back_url(request, "home")
    enrolled = is_enrolled(user)
    if enrolled and not is_verified(user):
        # A password alone never binds another authenticator to an account that has one.
        return redirect(step_url(VERIFY, request.get_full_path()))
    rebinding = enrolled and "rebind" in (request.POST if request.method == "POST" else request.GET)
    if enrolled and not rebinding:
        return render(
            request,
            "registration/two_factor.html",
            {
                "device": services.bound_device(user),
                "recovery_codes_left": services.recovery_codes_left(user),
            },
        )
    device = services.enrolment_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.confirm_enrolment(user, form.cleaned_data["code"], actor=user)
        except services.TwoFactorError as error:
            form.add_error("code", str(error))
        else:
            if result is not None:
                device, codes = result
                _signed_in_with(request, device)
                return _show_recovery_codes(request, codes, next_url, bound=True)
            form.add_error(
                "code", "验证码不正确：请确认已扫描本页的二维码、手机时间准确，然后输入应用当前显示的6位数字。"
            )
    if request.method == "POST":
        # PRG: the same page as a GET (same QR code: the unconfirmed device stays), with the error.
        return forms_state.redirect_with_form(request, form, _same_page(request), name="two-factor-enrol")
    form = forms_state.restore(request, CodeForm, name="two-factor-enrol") or form
    # segno draws the otpauth URI as path data only; nothing the user typed reaches the markup.
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=5, light="#fff", title="双重验证二维码")
    qr_svg = mark_safe(qr_svg)  # noqa: S308  # nosec B308 B703
    return render(
        request,
        "registration/two_factor_enrol.html",
        {
            "form": form,
            "qr_svg": qr_svg,
            "secret": services.secret_of(device),
            "rebinding": rebinding,
            "required": settings.STAFF_2FA_REQUIRED,
            "next": next_url,
        },
    )


@allow(STAFF_OR_ADMIN, before_second_step=True)
@never_cache
def verify(request):
    """验证: after the password, a 验证码 from the app or a 恢复码. Wrong codes count toward a limit;
    past it the sign-in is ended and the account waits like a locked password."""
    user = request.user
    next_url = back_url(request, "home")
    step = next_step(user)
    if step is None:
        return redirect(next_url)
    if step == ENROL:
        return redirect(step_url(ENROL, next_url))
    limit = settings.AXES_FAILURE_LIMIT
    wait = ratelimit.wait_seconds(FAILURES, user.pk, limit=limit)
    if wait:
        return _locked(request, wait)
    form = CodeForm(request.POST or None, recovery_allowed=True)
    if request.method == "POST" and form.is_valid():
        result = services.verify_code(user, form.cleaned_data["code"])
        if result.device is not None:
            _signed_in_with(request, result.device)
            return redirect(next_url)
        if result.wait_seconds:
            form.add_error("code", f"尝试过于频繁，请{result.wait_seconds}秒后再试。")
        else:
            window = int(settings.AXES_COOLOFF_TIME * 3600)
            failures = ratelimit.count(FAILURES, user.pk, window=window)
            if failures >= limit:
                return _locked(request, ratelimit.wait_seconds(FAILURES, user.pk, limit=limit) or window)
            form.add_error("code", f"验证码错误，请重新输入（还可尝试{limit - failures}次）。")
    if request.method == "POST":
        return forms_state.redirect_with_form(request, form, _same_page(request), name="two-factor-verify")
    form = forms_state.restore(request, CodeForm, name="two-factor-verify", recovery_allowed=True) or form
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": next_url})


@allow(STAFF_OR_ADMIN)
@require_POST
@never_cache
def recovery_codes(request):
    """重新生成恢复码: the new codes are shown once; the old ones stop working."""
    try:
        codes = services.regenerate_recovery_codes(request.user, actor=request.user)
    except services.TwoFactorError as error:
        messages.error(request, str(error))
        return redirect("two-factor")
    return _show_recovery_codes(request, codes, back_url(request, "two-factor"), bound=False)


def _same_page(request):
    """This page's URL with its ``next`` and ``rebind`` (from the query or the form), for the PRG redirect."""
    query = {}
    for key in ("next", "rebind"):
        value = request.POST.get(key, request.GET.get(key))
        if value is not None:
            query[key] = value
    return f"{request.path}?{urlencode(query)}" if query else request.path


def _signed_in_with(request, device):
    # The session now carries more rights than before: a new key, as at login (session fixation).
    request.session.cycle_key()
    django_otp.login(request, device)


def _show_recovery_codes(request, codes, next_url, *, bound):
    return render(
        request, "registration/two_factor_recovery_codes.html", {"codes": codes, "next": next_url, "bound": bound}
    )


def _locked(request, wait_seconds):
    logout(request)
    minutes = max(1, math.ceil(wait_seconds / 60))
    return render(request, "registration/locked.html", {"wait_minutes": minutes, "two_factor": True}, status=429)
