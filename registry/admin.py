"""System administration (Django admin). A model that a service writes is either saved here
through that same service (its hooks and audit entry), or read-only here."""

import contextvars

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction

from conac import audit
from conac.admin import ReadOnlyAdmin

from .models import (
    LEVEL_REGION,
    DnsChange,
    DnsRecord,
    Domain,
    Office,
    Region,
    ReservedName,
    Unit,
    UnitLevel,
    User,
    ZoneState,
)
from .organisations import services as organisation_services
from .organisations.forms import UnitFieldsForm


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    """GB/T 2260 as ``load_regions`` loads it: a renamed region would leave its 全称 (and its
    children's) and its office's name behind, so the table changes only with the data file."""

    list_display = ["code", "full_name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name", "full_name"]
    list_select_related = ["parent"]


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "parent", "scope_prefix"]
    search_fields = ["name", "code"]
    readonly_fields = ["code", "region", "parent", "scope_prefix"]
    list_select_related = ["parent"]

    def has_add_permission(self, request):
        return False  # one office per region, created with it by load_regions

    def has_delete_permission(self, request, obj=None):
        return False


class UnitAdminForm(forms.ModelForm):
    """The same field rules as 新用户注册 and 详细信息, so the admin cannot store a bad code."""

    class Meta:
        model = Unit
        fields = UnitFieldsForm.Meta.fields

    clean_credit_code = UnitFieldsForm.clean_credit_code
    clean_handler_id_number = UnitFieldsForm.clean_handler_id_number
    clean_contact_mobile = UnitFieldsForm.clean_contact_mobile

    def clean(self):
        data = super().clean()
        level, region = data.get("level"), data.get("region")
        needed = LEVEL_REGION.get(level)
        if region and needed and region.level != needed:
            self.add_error(
                "region",
                f"单位级别为“{UnitLevel(level).label}”时，所在地区须选择到{Region.Level(needed).label}行政区划。",
            )
        return data


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    form = UnitAdminForm
    list_display = ["name", "kind", "level", "region", "office", "credit_code", "created_at"]
    # Only the offices and regions that have units: the full lists run to 3,000+ entries.
    list_filter = [
        "kind",
        "level",
        ("office", admin.RelatedOnlyFieldListFilter),
        ("region", admin.RelatedOnlyFieldListFilter),
        "created_at",
    ]
    search_fields = ["name", "credit_code", "account__username", "region__full_name", "office__name"]
    autocomplete_fields = ["region"]
    readonly_fields = ["public_id", "office", "created_at", "updated_at"]
    list_select_related = ["region", "office"]

    def has_add_permission(self, request):
        return False  # units register themselves (新用户注册), with their account

    def has_delete_permission(self, request, obj=None):
        return False  # nothing a person or an audit may ask about is hard-deleted

    def save_model(self, request, obj, form, change):
        # The same 修改 as the office's 详细信息: the office follows level + region, and with it
        # the unit's domains under review and its unpaid charges (the registry hooks), with the
        # same audit entry. Saving the admin's copy directly would leave them with the old office.
        organisation_services.update_unit(
            obj,
            unit_data={f: form.cleaned_data.get(f, "") for f in organisation_services.UNIT_FIELDS},
            actor=request.user,
        )
        obj.refresh_from_db()


class RoleMembershipMixin:
    """Office staff belong to one office and a unit account to one unit: said at the field.

    Where a field is read-only on the page, the account's own value counts and the message
    is shown at the top of the form.
    """

    def clean(self):
        data = super().clean()
        role = data.get("role") if "role" in self.fields else self.instance.role
        office = data.get("office") if "office" in self.fields else self.instance.office
        unit = data.get("unit") if "unit" in self.fields else self.instance.unit
        if role == User.Role.OFFICE and not office:
            self._error_at("office", "编办工作人员必须选择所属编办。")
        if role == User.Role.UNIT and not unit:
            self._error_at("unit", "申报单位账号必须选择申报单位。")
        if role != User.Role.OFFICE and office:
            self._error_at("office", "只有编办工作人员可以选择所属编办。")
        if role != User.Role.UNIT and unit:
            self._error_at("unit", "只有申报单位账号可以选择申报单位。")
        return data

    def _error_at(self, field, message):
        self.add_error(field if field in self.fields else None, message)


class UserChangeForm(RoleMembershipMixin, BaseUserAdmin.form):
    pass


class UserCreationForm(RoleMembershipMixin, BaseUserAdmin.add_form):
    pass


# The administrator setting a password in the admin: Django builds that form without the
# request, so the view hands the actor over here (per request, safe across threads).
_password_actor = contextvars.ContextVar("password_actor", default=None)


class AccountPasswordForm(AdminPasswordChangeForm):
    """修改密码 in the admin. A unit account's password is set the way its office sets it
    (重置密码: the unit's * information complete, an audit entry, the unit told by SMS and email);
    a staff account's with an audit entry of its own."""

    def clean(self):
        data = super().clean()
        unit = self.user.unit if self.user.role == User.Role.UNIT else None
        if unit is not None and self._sets_password():
            # 重置密码's own rule, asked here so that it is a message on the form, not an error page.
            if any(not getattr(unit, "region_id" if f == "region" else f) for f in Unit.REQUIRED_FIELDS):
                raise ValidationError("必须将所有带*号的信息完善后才能修改成功")
        return data

    def _sets_password(self):
        return bool(self.cleaned_data.get("password1")) and self.cleaned_data.get("set_usable_password", True)

    def save(self, commit=True):
        actor = _password_actor.get()
        if self.user.role == User.Role.UNIT and self.user.unit_id and self._sets_password():
            organisation_services.reset_unit_password(
                self.user.unit, new_password=self.cleaned_data["password1"], actor=actor
            )
            self.user.refresh_from_db()
            return self.user
        with transaction.atomic():
            user = super().save(commit)
            action = "系统管理设置密码" if self.user.has_usable_password() else "系统管理停用密码登录"
            audit.record(self.user, action, actor=actor, data={"username": self.user.username})
        return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AccountPasswordForm
    list_display = ["username", "role", "office", "unit", "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["username", "first_name", "last_name", "email", "office__name", "unit__name"]
    autocomplete_fields = ["office", "unit"]
    fieldsets = BaseUserAdmin.fieldsets + (("角色与所属", {"fields": ("role", "office", "unit")}),)
    # Units register themselves (新用户注册), each with its one account: the admin creates staff only.
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("角色与所属", {"fields": ("role", "office")}),)
    list_select_related = ["office", "unit"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None:
            return fields
        if obj.role == User.Role.UNIT:
            # Which unit the account belongs to is fixed at 新用户注册, and its email follows
            # the unit's 联系人邮箱 (修改 keeps them equal).
            return [*fields, "role", "office", "unit", "email"]
        return [*fields, "unit"]  # a staff account never becomes a unit's account

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "role" in form.base_fields:
            role = form.base_fields["role"]
            role.choices = [(value, label) for value, label in role.choices if value != User.Role.UNIT]
        return form

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.record(
                obj,
                "系统管理修改账号" if change else "系统管理新建账号",
                actor=request.user,
                data={"changed": [f for f in form.changed_data if f not in ("password", "password1", "password2")]},
            )

    def user_change_password(self, request, id, form_url=""):
        token = _password_actor.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _password_actor.reset(token)


@admin.register(Domain)
class DomainAdmin(ReadOnlyAdmin):
    """Domains change state only through the services: here everything is read-only."""

    list_display = ["label", "suffix", "alabel", "unit", "office", "status", "years", "expires_on", "submitted_at"]
    list_filter = ["status", "suffix", "office__parent"]
    search_fields = ["label", "alabel", "unit__name", "unit__credit_code"]
    list_select_related = ["unit", "office"]
    date_hierarchy = "submitted_at"


@admin.register(ReservedName)
class ReservedNameAdmin(admin.ModelAdmin):
    """保留名称: kept by CONAC; nobody may apply for these names or their variants."""

    list_display = ["label", "suffix", "note", "created_at"]
    list_filter = ["suffix"]
    search_fields = ["label", "note"]


@admin.register(DnsRecord)
class DnsRecordAdmin(ReadOnlyAdmin):
    """Effective records change only through 解析审核: here everything is read-only."""

    list_display = ["domain", "host", "rtype", "value", "ttl", "created_at", "removed_at"]
    list_filter = ["rtype", "domain__suffix"]
    search_fields = ["domain__label", "domain__alabel", "host", "value"]
    list_select_related = ["domain"]


@admin.register(DnsChange)
class DnsChangeAdmin(ReadOnlyAdmin):
    list_display = ["domain", "action", "host", "rtype", "value", "status", "submitted_at"]
    list_filter = ["status", "action", "rtype"]
    search_fields = ["domain__label", "domain__alabel", "host", "value", "unit__name"]
    list_select_related = ["domain"]
    date_hierarchy = "submitted_at"


@admin.register(ZoneState)
class ZoneStateAdmin(ReadOnlyAdmin):
    list_display = ["zone", "serial", "record_count", "published_at", "requested", "published", "failed_at"]
