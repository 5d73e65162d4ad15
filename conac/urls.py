from django.contrib import admin
from django.urls import include, path

from . import views
from .two_factor import views as two_factor

admin.site.site_header = "政务和公益机构域名注册管理系统"
admin.site.site_title = "系统管理"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/", two_factor.two_factor, name="two-factor"),
    path("account/two-factor/verify/", two_factor.verify, name="two-factor-verify"),
    path("account/two-factor/recovery-codes/", two_factor.recovery_codes, name="two-factor-recovery-codes"),
    path("admin/", admin.site.urls),
    path("exports/", include("conac.exports")),
    path("", include("registry.urls")),
    path("", include("billing.urls")),
    path("", include("badges.urls")),
    path("", include("rdap.urls")),
]
