from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Office, Region, Unit, User


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
