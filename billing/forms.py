"""Forms of the billing pages: they check the input's shape and return typed data.

The money rules themselves (amount equals the total, dates, duplicates, years ahead)
live in billing.services; the views show its BillingError at the field it is about.
"""

import uuid
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from conac.forms import DateField
from registry.domains.forms import PublicIdsField

YEAR_CHOICES = [(n, f"{n}年") for n in range(1, 11)]
MONEY_MAX = Decimal("9999999999.99")


def _years_field(label):
    return forms.TypedChoiceField(
        label=label,
        choices=YEAR_CHOICES,
        coerce=int,
        initial=1,
        error_messages={"required": f"请选择{label}。", "invalid_choice": f"{label}须为1至10年。"},
    )


def _money_field(label):
    return forms.DecimalField(
        label=label,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MONEY_MAX,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={
            "required": f"请填写{label}。",
            "invalid": f"{label}须为数字，例如 600.00。",
            "min_value": f"{label}须大于0。",
            "max_value": f"{label}过大，请核对。",
            "max_decimal_places": f"{label}最多保留两位小数（精确到分）。",
            "max_digits": f"{label}过大，请核对。",
            "max_whole_digits": f"{label}过大，请核对。",
        },
    )


class ChangeYearsForm(forms.Form):
    """消费变更: 注册年限*."""

    years = _years_field("注册年限")


class FeeMarkingForm(forms.Form):
    """收费: 发票号码*, 收费金额*, and the charges the staff saw (hidden)."""

    invoice_no = forms.CharField(
        label="发票号码",
        max_length=50,
        error_messages={"required": "请填写发票号码。", "max_length": "发票号码不能超过50个字符。"},
    )
    amount = _money_field("收费金额")
    charges = PublicIdsField(
        error_messages={"required": "没有可收费的消费，请刷新后重新核对。", "invalid": "收费信息无效，请刷新后重试。"}
    )

    def clean_invoice_no(self):
        value = self.cleaned_data["invoice_no"].strip()
        if not value:
            raise ValidationError("请填写发票号码。")
        return value


class RemittanceForm(forms.Form):
    """登记汇款: 汇款金额*, 汇款日期*, 汇款凭证号*, 备注."""

    amount = _money_field("汇款金额")
    remitted_on = DateField(label="汇款日期", error_messages={"required": "请填写汇款日期。"})
    voucher_no = forms.CharField(
        label="汇款凭证号",
        max_length=64,
        error_messages={"required": "请填写汇款凭证号。", "max_length": "汇款凭证号不能超过64个字符。"},
    )
    note = forms.CharField(
        label="备注",
        required=False,
        max_length=200,
        error_messages={"max_length": "备注不能超过200个字符。"},
    )

    def clean_voucher_no(self):
        value = self.cleaned_data["voucher_no"].strip()
        if not value:
            raise ValidationError("请填写汇款凭证号。")
        return value


class RefundForm(forms.Form):
    """退费: 退费日期*, 退费凭证号*, 退费金额* (the charge's amount)."""

    refunded_on = DateField(label="退费日期", error_messages={"required": "请填写退费日期。"})
    voucher_no = forms.CharField(
        label="退费凭证号",
        max_length=64,
        error_messages={"required": "请填写退费凭证号。", "max_length": "退费凭证号不能超过64个字符。"},
    )
    amount = _money_field("退费金额")

    def clean_voucher_no(self):
        value = self.cleaned_data["voucher_no"].strip()
        if not value:
            raise ValidationError("请填写退费凭证号。")
        return value


class CommaSeparatedIdsField(PublicIdsField):
    """The ticked domains carried from one step to the next as one field, not thousands.

    Thousands of separate ``ids`` inputs would pass Django's limit on the number of
    fields in one POST; one comma-separated value does not.
    """

    widget = forms.HiddenInput

    def to_python(self, value):
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        return super().to_python(value)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ",".join(str(v) for v in value)
        return value


class RenewalForm(forms.Form):
    """续费: the ticked domains and 续费年限*."""

    ids = CommaSeparatedIdsField(error_messages={"required": "请先在域名查询中勾选要续费的域名。"})
    years = _years_field("续费年限")


def ticked_ids(data):
    """The ``ids`` ticked on 域名查询 (many checkboxes) or carried on (one field); invalid ones dropped."""
    raw = data.getlist("ids")
    if len(raw) == 1 and "," in raw[0]:
        raw = raw[0].split(",")
    ids = []
    for value in raw:
        try:
            ids.append(uuid.UUID(value.strip()))
        except ValueError:
            continue
    return list(dict.fromkeys(ids))
