from django.contrib import admin

from conac.admin import ReadOnlyAdmin

from .models import CommonReason, Decision


@admin.register(CommonReason)
class CommonReasonAdmin(admin.ModelAdmin):
    list_display = ["text", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["text"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # The list's editable cells have no <label>: name each by its column (WCAG 4.1.2).
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and db_field.name in self.list_editable:
            formfield.widget.attrs["aria-label"] = str(db_field.verbose_name)
        return formfield


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    """Decisions are written by the review engine only."""

    list_display = ["created_at", "content_type", "object_id", "round", "tier", "outcome", "reviewer", "office_name"]
    list_filter = ["tier", "outcome", "content_type"]
    search_fields = ["opinion", "reviewer__username"]
    date_hierarchy = "created_at"
