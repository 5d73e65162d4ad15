import math

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode

from . import forms_state, ratelimit, todo, two_factor
from .access import AUTHENTICATED, PUBLIC, allow


@allow(AUTHENTICATED)
def home(request):
    """首页: the role's to-do list, each item a count linking to exactly those rows (``conac.todo``)."""
    return render(request, "home.html", {"todo": todo.home_page_for(request.user)})


@allow(PUBLIC)
class LoginView(auth_views.LoginView):
    """登录. django-axes locks one account from one address after repeated failures; on top,
    one address that fails too often across accounts is held off for a while."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        wait = ratelimit.wait_seconds(
            "login-failures", ratelimit.client_address(request), limit=settings.LOGIN_ADDRESS_FAILURE_LIMIT
        )
        if wait:
            return _locked_page(request, wait, per_address=True)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        # The password was the first step: staff with an authenticator (or, when enforced, all
        # staff) continue to 双重验证 before the session is fully signed in.
        step = two_factor.next_step(self.request.user)
        return redirect(two_factor.step_url(step, self.get_success_url())) if step else response

    def form_invalid(self, form):
        ratelimit.count(
            "login-failures", ratelimit.client_address(self.request), window=int(_cool_off().total_seconds())
        )
        # PRG: the login page again as a GET (the password is never kept), with the error.
        url = self.request.path
        if self.request.GET.get(self.redirect_field_name):
            url += "?" + urlencode({self.redirect_field_name: self.request.GET[self.redirect_field_name]})
        return forms_state.redirect_with_form(self.request, form, url, name="login")

    def get_form(self, form_class=None):
        if self.request.method == "GET":
            form_class = form_class or self.get_form_class()
            kept = forms_state.restore(self.request, lambda data: form_class(self.request, data=data), name="login")
            if kept is not None:
                return kept
        return super().get_form(form_class)


def _cool_off():
    return timezone.timedelta(hours=settings.AXES_COOLOFF_TIME)


def _locked_page(request, wait_seconds, *, per_address=False):
    minutes = max(1, math.ceil(wait_seconds / 60))
    return render(
        request, "registration/locked.html", {"wait_minutes": minutes, "per_address": per_address}, status=429
    )


def locked_out(request, original_response=None, credentials=None):
    """django-axes' lockout page: how long this account stays locked from this address."""
    from axes.models import AccessAttempt

    username = (credentials or {}).get("username") or request.POST.get("username", "")
    attempt = (
        AccessAttempt.objects.filter(username=username, ip_address=ratelimit.client_address(request))
        .order_by("-attempt_time")
        .first()
    )
    ends = (attempt.attempt_time if attempt else timezone.now()) + _cool_off()
    return _locked_page(request, (ends - timezone.now()).total_seconds())


@allow(PUBLIC)
class LogoutView(auth_views.LogoutView):
    pass
