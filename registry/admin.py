from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Domain, Office, Region, ReservedName, Unit, User


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


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "level", "region", "office", "credit_code", "created_at"]
    list_filter = ["kind", "level", "office__parent", "created_at"]
    search_fields = ["name", "credit_code", "account__username", "region__full_name", "office__name"]
    autocomplete_fields = ["region"]
    readonly_fields = ["public_id", "office", "created_at", "updated_at"]
    list_select_related = ["region", "office"]

    def has_delete_permission(self, request, obj=None):
        return False  # nothing a person or an audit may ask about is hard-deleted


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "role", "office", "unit", "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["username", "first_name", "last_name", "email", "office__name", "unit__name"]
    autocomplete_fields = ["office", "unit"]
    fieldsets = BaseUserAdmin.fieldsets + (("角色与所属", {"fields": ("role", "office", "unit")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("角色与所属", {"fields": ("role", "office", "unit")}),)
    list_select_related = ["office", "unit"]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    """Domains change state only through the services: here everything is read-only."""

    list_display = ["label", "suffix", "alabel", "unit", "office", "status", "years", "expires_on", "submitted_at"]
    list_filter = ["status", "suffix", "office__parent"]
    search_fields = ["label", "alabel", "unit__name", "unit__credit_code"]
    list_select_related = ["unit", "office"]
    date_hierarchy = "submitted_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReservedName)
class ReservedNameAdmin(admin.ModelAdmin):
    """保留名称: kept by CONAC; nobody may apply for these names or their variants."""

    list_display = ["label", "suffix", "note", "created_at"]
    list_filter = ["suffix"]
    search_fields = ["label", "note"]
