from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
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
from .organisations.forms import UnitFieldsForm


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "full_name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name", "full_name"]
    readonly_fields = ["code", "level", "parent", "full_name"]
    list_select_related = ["parent"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "parent", "scope_prefix"]
    search_fields = ["name", "code"]
    readonly_fields = ["code", "region", "parent", "scope_prefix"]
    list_select_related = ["parent"]

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
        # The reviewing office is never chosen by hand: it follows level + region, as in 修改.
        obj.office = Unit.reviewing_office_for(obj.level, obj.region)
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.record(obj, "系统管理修改单位信息", actor=request.user, data={"changed": form.changed_data})


class RoleMembershipMixin:
    """Office staff belong to one office and a unit account to one unit: said at the field."""

    def clean(self):
        data = super().clean()
        role, office, unit = data.get("role"), data.get("office"), data.get("unit")
        if role == User.Role.OFFICE and not office:
            self.add_error("office", "编办工作人员必须选择所属编办。")
        if role == User.Role.UNIT and not unit:
            self.add_error("unit", "申报单位账号必须选择申报单位。")
        if role != User.Role.OFFICE and office:
            self.add_error("office", "只有编办工作人员可以选择所属编办。")
        if role != User.Role.UNIT and unit:
            self.add_error("unit", "只有申报单位账号可以选择申报单位。")
        return data


class UserChangeForm(RoleMembershipMixin, BaseUserAdmin.form):
    pass


class UserCreationForm(RoleMembershipMixin, BaseUserAdmin.add_form):
    pass


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ["username", "role", "office", "unit", "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["username", "first_name", "last_name", "email", "office__name", "unit__name"]
    autocomplete_fields = ["office", "unit"]
    fieldsets = BaseUserAdmin.fieldsets + (("角色与所属", {"fields": ("role", "office", "unit")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("角色与所属", {"fields": ("role", "office", "unit")}),)
    list_select_related = ["office", "unit"]


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
