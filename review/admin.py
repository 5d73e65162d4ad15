from django.contrib import admin

from conac.admin import ReadOnlyAdmin

from .models import CommonReason, Decision


@admin.register(CommonReason)
class CommonReasonAdmin(admin.ModelAdmin):
    list_display = ["text", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["text"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    """Decisions are written by the review engine only."""

    list_display = ["created_at", "content_type", "object_id", "round", "tier", "outcome", "reviewer", "office_name"]
    list_filter = ["tier", "outcome", "content_type"]
    search_fields = ["opinion", "reviewer__username"]
    date_hierarchy = "created_at"
