"""The administrator's side of 双重验证: see who has bound an authenticator, and reset a lost one.

django-otp's admins for authenticators and recovery codes, made read-only (an administrator
never sets a user's secret, and the secrets are hidden: OTP_ADMIN_HIDE_SENSITIVE_DATA) except
for removing devices, which goes through the service and leaves an audit entry.
"""

from django.contrib import admin
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import services


class DeviceResetMixin:
    actions = ["reset_two_factor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="重置双重验证（删除所选用户的身份验证器和恢复码，下次登录时重新绑定）")
    def reset_two_factor(self, request, queryset):
        users = {device.user for device in queryset.select_related("user")}
        for user in users:
            services.reset_two_factor(user, actor=request.user, reason="管理员在系统管理中重置")
        self.message_user(request, f"已重置 {len(users)} 个用户的双重验证。")

    def delete_model(self, request, obj):
        services.delete_device(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for device in queryset.select_related("user"):
            services.delete_device(device, actor=request.user)


class ResettableTOTPDeviceAdmin(DeviceResetMixin, TOTPDeviceAdmin):
    pass


class ResettableStaticDeviceAdmin(DeviceResetMixin, StaticDeviceAdmin):
    pass


for model, model_admin in ((TOTPDevice, ResettableTOTPDeviceAdmin), (StaticDevice, ResettableStaticDeviceAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
