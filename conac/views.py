from django.contrib.auth import views as auth_views
from django.shortcuts import render

from .access import AUTHENTICATED, PUBLIC, allow


@allow(AUTHENTICATED)
def home(request):
    """首页: who is signed in, their office or unit, and their menus."""
    return render(request, "home.html")


@allow(PUBLIC)
class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@allow(PUBLIC)
class LogoutView(auth_views.LogoutView):
    pass
