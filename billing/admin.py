from django import forms
from django.contrib import admin

from conac.admin import ReadOnlyAdmin

from .models import Charge, FeeMarking, FeeSchedule, LedgerEntry, OfficeAccount, Refund, Remittance


class FeeScheduleForm(forms.ModelForm):
    class Meta:
        model = FeeSchedule
        fields = ["suffix", "price_per_year", "valid_from", "valid_to"]

    def clean(self):
        data = super().clean()
        price, start, end = data.get("price_per_year"), data.get("valid_from"), data.get("valid_to")
        if price is not None and price <= 0:
            self.add_error("price_per_year", "年费须大于0。")
        if start and end and end < start:
            self.add_error("valid_to", "失效日期不能早于生效日期。")
        suffix = data.get("suffix")
        if suffix and start:
            clash = FeeSchedule.objects.filter(suffix=suffix, valid_from=start).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("valid_from", f"{suffix}在{start:%Y-%m-%d}已有收费标准，请修改那一条。")
        return data


@admin.register(FeeSchedule)
class FeeScheduleAdmin(admin.ModelAdmin):
    """收费标准, kept by CONAC. A charge keeps the price it was created with, so a change here
    affects only charges created afterwards."""

    form = FeeScheduleForm
    list_display = ["suffix", "price_per_year", "valid_from", "valid_to"]
    list_filter = ["suffix", "valid_from"]
    search_fields = ["suffix"]
    date_hierarchy = "valid_from"

    def has_delete_permission(self, request, obj=None):
        return False  # a price once used is history: close it with 失效日期 instead


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    list_display = ["domain", "unit", "office", "kind", "years", "amount", "status", "created_at", "effective_on"]
    list_filter = ["status", "kind", "created_at"]
    search_fields = ["domain__label", "domain__alabel", "unit__name", "office__name", "marking__invoice_no"]
    list_select_related = ["domain", "unit", "office"]
    date_hierarchy = "created_at"


@admin.register(FeeMarking)
class FeeMarkingAdmin(ReadOnlyAdmin):
    list_display = ["invoice_no", "unit", "office", "amount", "marked_by", "marked_at"]
    list_filter = ["marked_at"]
    search_fields = ["invoice_no", "unit__name", "office__name"]
    list_select_related = ["unit", "office", "marked_by"]
    date_hierarchy = "marked_at"


@admin.register(Remittance)
class RemittanceAdmin(ReadOnlyAdmin):
    list_display = ["voucher_no", "office", "amount", "remitted_on", "status", "registered_at", "confirmed_at"]
    list_filter = ["status", "remitted_on"]
    search_fields = ["voucher_no", "office__name", "note"]
    list_select_related = ["office"]
    date_hierarchy = "remitted_on"


@admin.register(OfficeAccount)
class OfficeAccountAdmin(ReadOnlyAdmin):
    list_display = ["office", "balance", "updated_at"]
    search_fields = ["office__name", "office__code"]
    list_select_related = ["office"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "office", "kind", "amount", "balance_after", "remittance", "charge", "created_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["office__name", "remittance__voucher_no", "charge__domain__label"]
    list_select_related = ["office", "remittance", "remittance__office", "charge", "charge__domain"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["voucher_no", "unit", "office", "amount", "refunded_on", "recorded_by", "recorded_at"]
    list_filter = ["refunded_on"]
    search_fields = ["voucher_no", "unit__name", "office__name", "charge__domain__label"]
    list_select_related = ["unit", "office", "recorded_by"]
    date_hierarchy = "refunded_on"
