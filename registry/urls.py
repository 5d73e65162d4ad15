from django.urls import path

from .views import accounts

app_name = "registry"

urlpatterns = [
    path("register/", accounts.register, name="register"),
    path("register/done/", accounts.register_done, name="register-done"),
    path("regions/widget/", accounts.region_widget, name="region-widget"),
    path("account/password/", accounts.change_password, name="change-password"),
    path("units/", accounts.unit_list, name="unit-list"),
    path("units/<uuid:public_id>/", accounts.unit_detail, name="unit-detail"),
]
