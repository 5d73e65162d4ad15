"""Views of units and accounts: parse, call one service, render."""

import math
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Q
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from conac import confirmation, forms_state, ratelimit
from conac.access import AUTHENTICATED, OFFICE, PUBLIC, allow
from conac.audit import history_of

from . import services, verification
from .forms import (
    ChangeOwnPasswordForm,
    MobileCodeForm,
    RegionWidget,
    RegistrationForm,
    ResetPasswordForm,
    UnitDetailForm,
)
from .models import Unit, UnitKind, UnitLevel

UNITS_PER_PAGE = 20
DOMAINS_IN_DETAIL = 20  # the panel lists the newest; 域名查询 has them all


@allow(PUBLIC)
def register(request):
    """新用户注册."""
    if request.user.is_authenticated:
        return redirect("home")
    if request.method == "POST":
        wait = ratelimit.hit(
            "registration",
            ratelimit.client_address(request),
            limit=settings.REGISTRATION_POSTS_PER_ADDRESS,
            window=settings.REGISTRATION_POSTS_WINDOW,
        )
        if wait:
            return _too_many_registrations(request, wait)
    if request.method != "POST":
        form = forms_state.restore(request, RegistrationForm, name="register") or RegistrationForm()
        typed, state = forms_state.kept_data(request, name="register-code")
        if state is not None:
            # 获取验证码 without JavaScript: the page again as it was typed, with the code's status.
            form = RegistrationForm(initial=_as_typed(typed))
            return render(request, "registry/register.html", _registration_context(form, **state["extra"]))
        return render(request, "registry/register.html", _registration_context(form))
    form = RegistrationForm(request.POST)
    if form.is_valid():
        try:
            unit = services.register_with_mobile_code(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                unit_data=form.unit_data(),
                mobile_code=form.cleaned_data["mobile_code"],
                site_url=request.build_absolute_uri("/"),
            )
        except services.WrongCode as exc:
            form.add_error("mobile_code", str(exc))
        except IntegrityError:
            # A simultaneous registration (a double click) took the username or credit code
            # after the form checked it: validate again so the clash shows at its field.
            form = RegistrationForm(request.POST)
            if form.is_valid():
                form.add_error(None, "提交未成功，请稍后重试。")
        else:
            request.session["registered_unit"] = str(unit.public_id)
            return redirect("registry:register-done")
    elif form.clashing_unit is not None:
        services.report_credit_code_claim(form.clashing_unit, claimant=form.claimant())
    return forms_state.redirect_with_form(request, form, reverse("registry:register"), name="register")


@allow(PUBLIC)
@require_POST
def register_code(request):
    """获取验证码 on 新用户注册: htmx posts the 联系人手机 alone and gets the status line back;
    without JavaScript the whole form comes here and the page is shown again as it was typed."""
    if request.user.is_authenticated:
        return redirect("home")
    form = MobileCodeForm(request.POST)
    context = {"code_sent": None, "code_error": ""}
    status = 200
    if form.is_valid():
        try:
            context["code_sent"] = services.send_registration_code(
                form.cleaned_data["contact_mobile"], client_address=ratelimit.client_address(request)
            )
        except services.CodeRefused as exc:
            context["code_error"], status = str(exc), 429
    else:
        context["code_error"] = form.errors["contact_mobile"][0]
    if request.htmx:
        # htmx swaps 2xx answers only: a refusal is said in the status line, with a 200.
        return render(request, "registry/partials/mobile_code_status.html", _registration_context(None, **context))
    if status == 429:
        # Held off (per number or address): the page says so with a 429, like every public form
        # refused for its rate; sending it again is refused the same way and changes nothing.
        typed = RegistrationForm(initial=_as_typed(request.POST))
        return render(request, "registry/register.html", _registration_context(typed, **context), status=status)
    # Without JavaScript the whole form came: back to 新用户注册 (a GET) as typed, with the status.
    sent = context["code_sent"]
    shown = {
        "code_error": context["code_error"],
        "code_sent": {"mobile_display": sent.mobile_display, "delivered": sent.delivered} if sent else None,
    }
    key = forms_state.remember(
        request, name="register-code", data=request.POST, secret={"password", "password_confirm"}, extra=shown
    )
    return redirect(forms_state.with_key(reverse("registry:register"), key))


def _as_typed(data):
    """The 新用户注册 fields as typed (passwords aside), to show the form again without judging it."""
    initial = {name: data.get(name, "") for name in RegistrationForm.base_fields if name in data}
    initial.pop("password", None)
    initial.pop("password_confirm", None)
    initial["region"] = RegionWidget().value_from_datadict(data, None, "region")
    return initial


def _registration_context(form, **extra):
    return {
        "form": form,
        "sms_demo_folder": _sms_demo_folder(),
        "code_minutes": settings.REGISTRATION_CODE_TTL // 60,
        "resend_seconds": settings.REGISTRATION_CODE_RESEND_SECONDS,
        **extra,
    }


def _sms_demo_folder():
    """Where the file SMS backend (make run's demo) writes messages: the page tells where the code is."""
    if settings.SMS_BACKEND != "conac.sms.FileBackend":
        return ""
    folder = Path(settings.SMS_FILE_PATH)
    try:
        return f"{folder.relative_to(settings.BASE_DIR)}/"
    except ValueError:
        return f"{folder}/"


def _too_many_registrations(request, wait_seconds):
    return render(
        request,
        "registry/register_limited.html",
        {"wait_minutes": max(1, math.ceil(wait_seconds / 60))},
        status=429,
    )


@allow(PUBLIC)
def confirm_email(request, token):
    """The link in the confirmation email: a page with 确认 (a POST, so a mail scanner opening the
    link confirms nothing); an expired link offers a new one."""
    context = {"token": token, "confirmed": None, "error": "", "expired": False, "resent": None}
    status = 200
    if request.method == "POST":
        outcome = {}
        try:
            if request.POST.get("action") == "resend":
                outcome["resent"] = services.resend_email_confirmation(token, site_url=request.build_absolute_uri("/"))
            else:
                unit = services.confirm_contact_email(token)
                outcome["confirmed"] = {"name": unit.name, "contact_email": unit.contact_email}
        except services.EmailLinkExpired as exc:
            outcome.update(error=str(exc), expired=True)
        except services.EmailLinkError as exc:
            outcome.update(error=str(exc), status=400)
        # The outcome is shown by a GET: a reload sends nothing again.
        key = forms_state.remember(request, name=f"confirm-email:{token}", data=QueryDict(), extra=outcome)
        return redirect(forms_state.with_key(reverse("registry:confirm-email", args=[token]), key))
    _, state = forms_state.kept_data(request, name=f"confirm-email:{token}")
    if state is not None:
        outcome = state["extra"]
        status = outcome.pop("status", 200)
        context.update(outcome)
    elif not verification.is_genuine_email_token(token):
        context["error"], status = "链接无效，请检查是否完整复制了邮件中的链接。", 400
    return render(request, "registry/register_confirm_email.html", context, status=status)


@allow(PUBLIC)
def register_done(request):
    public_id = request.session.get("registered_unit")
    unit = Unit.objects.select_related("office", "region").filter(public_id=public_id).first() if public_id else None
    if unit is None:
        return redirect("registry:register")
    return render(
        request,
        "registry/register_done.html",
        {"unit": unit, "confirm_days": settings.REGISTRATION_EMAIL_CONFIRM_DAYS},
    )


@allow(PUBLIC)
def region_widget(request):
    """The 所在地区 selects again, after one of them changed (htmx)."""
    name = request.GET.get("name", "region")
    if name not in {"region"}:
        raise Http404
    widget = RegionWidget()
    value = widget.with_change(request.GET, name)
    return render(request, widget.template_name, widget.get_context(name, value, {"id": f"id_{name}"}))


@allow(AUTHENTICATED)
def change_password(request):
    """修改密码 (own)."""
    form = ChangeOwnPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.change_own_password(request.user, new_password=form.cleaned_data["new_password"])
        update_session_auth_hash(request, user)
        messages.success(request, "密码已修改。")
        return redirect("home")
    if request.method == "POST":
        return forms_state.redirect_with_form(
            request, form, reverse("registry:change-password"), name="change-password"
        )
    form = (
        forms_state.restore(request, lambda data: ChangeOwnPasswordForm(request.user, data), name="change-password")
        or form
    )
    return render(request, "registry/change_password.html", {"form": form})


@allow(OFFICE)
def unit_list(request):
    """用户管理——申报单位管理/缴费: the office's units; 详细信息 opens on the right."""
    office = request.user.office
    q = request.GET.get("q", "").strip()
    include_lower = request.GET.get("lower") == "1"
    units = Unit.objects.visible_to(request.user) if include_lower else Unit.objects.filter(office=office)
    if q:
        units = units.filter(Q(name__icontains=q) | Q(credit_code__icontains=q.upper()) | Q(account__username=q))
    kind = request.GET.get("kind", "")
    if kind in UnitKind.values:
        units = units.filter(kind=kind)
    units = units.select_related("region", "office", "account").order_by("name", "id")
    page = Paginator(units, UNITS_PER_PAGE).get_page(request.GET.get("page"))
    selected = request.GET.get("unit")
    context = {
        "page": page,
        "q": q,
        "kind": kind,
        "lower": include_lower,
        "kinds": UnitKind.choices,
        "selected": selected,
    }
    if selected:
        unit = _visible_unit_or_404(request.user, selected)
        context.update(_detail_context(request, unit))
    return render(request, "registry/unit_list.html", context)


@allow(OFFICE)
def unit_detail(request, public_id):
    """详细信息 (htmx panel, or a whole page without JavaScript): 修改 and 重置密码."""
    unit = _visible_unit_or_404(request.user, public_id)
    form = reset_form = None
    if request.method == "POST":
        if not _is_editable(request.user, unit):
            raise Http404
        if request.POST.get("action") == "reset":
            reset_form = ResetPasswordForm(request.POST)
            if reset_form.is_valid() and not confirmation.is_confirmed(request):
                return confirmation.ask(
                    request,
                    question=f"重置{unit.name}（统一社会信用代码 {unit.credit_code}）的密码？",
                    details=[f"用户名：{unit.account.username}", "重置后该单位须用新密码登录，并通知该单位联系人。"],
                    cancel_url=_detail_url(request, unit),
                    button="重置密码",
                )
            if reset_form.is_valid():
                try:
                    services.reset_unit_password(
                        unit, new_password=reset_form.cleaned_data["new_password"], actor=request.user
                    )
                except services.TransitionError as exc:
                    reset_form.add_error(None, str(exc))
                else:
                    messages.success(request, "密码已重置，已通知该单位联系人。")
                    return _back_to_detail(request, unit)
        else:
            form = UnitDetailForm(request.POST, instance=Unit.objects.get(pk=unit.pk))
            if form.is_valid():
                try:
                    services.update_unit(
                        unit,
                        unit_data=form.unit_data(),
                        new_password=form.cleaned_data.get("new_password", ""),
                        actor=request.user,
                    )
                except services.TransitionError as exc:
                    form.add_error(None, str(exc))
                except IntegrityError:
                    # Another unit took the credit code after the form checked it.
                    form = UnitDetailForm(request.POST, instance=Unit.objects.get(pk=unit.pk))
                    if form.is_valid():
                        form.add_error(None, "提交未成功，请稍后重试。")
                else:
                    messages.success(
                        request,
                        "单位信息已修改，密码已重置。" if form.cleaned_data.get("new_password") else "单位信息已修改。",
                    )
                    return _back_to_detail(request, unit)
        if not request.htmx:
            # Refused: back to the panel's page (a GET), the form as typed with its errors.
            refused = reset_form if reset_form is not None else form
            return forms_state.redirect_with_form(
                request, refused, _detail_url(request, unit), name=f"unit-detail:{unit.public_id}",
                extra={"action": "reset" if reset_form is not None else "update"},
            )  # fmt: skip
    context = _detail_context(request, unit, form=form, reset_form=reset_form)
    return render(request, _detail_template(request), context)


def _visible_unit_or_404(user, public_id):
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    return get_object_or_404(
        Unit.objects.visible_to(user).select_related("region", "office", "account"), public_id=public_id
    )


def _is_editable(user, unit):
    return Unit.objects.editable_by(user).filter(pk=unit.pk).exists()


def _detail_context(request, unit, form=None, reset_form=None):
    editable = _is_editable(request.user, unit)
    if form is None and reset_form is None and editable:
        state = forms_state.pop_state(request, name=f"unit-detail:{unit.public_id}")
        if state is not None and state["extra"].get("action") == "reset":
            reset_form = forms_state.bind(ResetPasswordForm, state)
        elif state is not None:
            form = forms_state.bind(UnitDetailForm, state, instance=unit)
    return {
        "unit": unit,
        "editable": editable,
        "detail_form": form or (UnitDetailForm(instance=unit) if editable else None),
        "reset_form": reset_form,
        "history": history_of(unit)[:20],
        "domains": unit.domains.order_by("-id")[:DOMAINS_IN_DETAIL],
        "levels": UnitLevel,
    }


def _detail_template(request):
    return "registry/partials/unit_detail.html" if request.htmx else "registry/unit_detail_page.html"


def _back_to_detail(request, unit):
    return redirect(_detail_url(request, unit))


def _detail_url(request, unit):
    if request.htmx:
        return reverse("registry:unit-detail", args=[unit.public_id])
    return f"{reverse('registry:unit-list')}?unit={unit.public_id}"
