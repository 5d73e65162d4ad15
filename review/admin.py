from django.contrib import admin

from .models import CommonReason, Decision


@admin.register(CommonReason)
class CommonReasonAdmin(admin.ModelAdmin):
    list_display = ["text", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["text"]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    """Decisions are written by the review engine only."""

    list_display = ["created_at", "content_type", "object_id", "round", "tier", "outcome", "reviewer", "office_name"]
    list_filter = ["tier", "outcome", "content_type"]
    search_fields = ["opinion", "reviewer__username"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
