from django.contrib import admin

from .models import AuditEntry, Notice, WorkdayException
from .two_factor import admin as _two_factor_admin  # noqa: F401  (双重验证's device admins, with the reset)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records written by services only (logs, decisions, money, domains): nothing to add, edit or delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "object_repr", "from_state", "to_state", "reason"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "actor_label", "reason", "object_id"]
    date_hierarchy = "created_at"


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "channel", "recipient", "template", "status", "attempts", "sent_at"]
    list_filter = ["channel", "status", "template"]
    search_fields = ["recipient", "key", "body"]
    date_hierarchy = "created_at"


@admin.register(WorkdayException)
class WorkdayExceptionAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "note", "updated_at"]
    list_filter = ["is_workday"]
    search_fields = ["note", "date"]
    date_hierarchy = "date"
    ordering = ["-date"]
