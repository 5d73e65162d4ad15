"""Forms of the domain pages: 域名申请, 审核, 域名查询, 删除域名."""

import re
import uuid

from django import forms
from django.core.exceptions import ValidationError

from conac.forms import DateField

from . import names
from .models import DomainStatus
from .services import MAX_YEARS, MIN_YEARS, check_name

YEAR_CHOICES = [(n, f"{n}年") for n in range(MIN_YEARS, MAX_YEARS + 1)]


class DomainApplicationForm(forms.Form):
    """域名申请: 域名*, 域名后缀*, 注册年限*."""

    label = forms.CharField(
        label="域名",
        max_length=100,
        help_text="填写中文名称，不含后缀，例如“北京市海淀区教育委员会”；须包含至少一个汉字，可搭配字母、数字和连字符；不超过31个字符",
        error_messages={"required": "请填写域名。"},
    )
    suffix = forms.ChoiceField(label="域名后缀", error_messages={"required": "请选择域名后缀。"})
    years = forms.TypedChoiceField(
        label="注册年限",
        choices=YEAR_CHOICES,
        coerce=int,
        initial=1,
        error_messages={"required": "请选择注册年限。", "invalid_choice": "注册年限须为1至10年。"},
    )

    def __init__(self, *args, unit, exclude_pk=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit = unit
        self.exclude_pk = exclude_pk
        self.fields["suffix"].choices = [(s, s) for s in names.SUFFIXES]
        self.fields["suffix"].error_messages["invalid_choice"] = "请选择有效的域名后缀（.政务 或 .公益）。"
        self.fields["suffix"].initial = names.suffix_for_kind(unit.kind)
        for field in self.fields.values():
            field.label_suffix = "*"
        self.checked = None

    def clean(self):
        data = super().clean()
        if "label" in data and "suffix" in data:
            try:
                self.checked = check_name(self.unit, data["label"], data["suffix"], exclude_pk=self.exclude_pk)
            except ValidationError as exc:
                self.add_error(None, exc)
        return data


class PublicIdsField(forms.Field):
    """The ticked rows: a list of public UUIDs."""

    default_error_messages = {"required": "请先勾选域名。", "invalid": "所选域名无效，请刷新页面后重试。"}
    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        try:
            return [uuid.UUID(str(v)) for v in value]
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class ReviewDecisionForm(forms.Form):
    """审核: the ticked rows, 审核意见 (required for 审核不通过)."""

    ids = PublicIdsField(error_messages={"required": "请先勾选要审核的域名。"})
    action = forms.ChoiceField(choices=[("approve", "审核通过"), ("reject", "审核不通过")])
    opinion = forms.CharField(
        label="审核意见", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean(self):
        data = super().clean()
        if data.get("action") == "reject" and not (data.get("opinion") or "").strip():
            self.add_error("opinion", "审核不通过时必须填写审核意见（不通过原因）。")
        return data


class DomainSearchForm(forms.Form):
    """域名查询: 域名, 单位名称, 状态, 到期时间 (起), 到期时间 (止)."""

    domain = forms.CharField(label="域名", required=False, max_length=100)
    unit_name = forms.CharField(label="单位名称", required=False, max_length=100)
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部")] + list(DomainStatus.choices))
    expires_from = DateField(label="到期时间 (起)", required=False, help_text="")
    expires_to = DateField(label="到期时间 (止)", required=False, help_text="")

    # 首页 (CONAC) links each province's bar here: its provincial office and every office under
    # it (the first two digits of the office code; "00" is 中央编办). Carried as a hidden field.
    province = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_province(self):
        # Only ever followed from a link: anything but two digits is ignored, not an error to show.
        code = self.cleaned_data.get("province") or ""
        return code if re.fullmatch(r"\d{2}", code) else ""

    def clean(self):
        data = super().clean()
        start, end = data.get("expires_from"), data.get("expires_to")
        if start and end and start > end:
            self.add_error("expires_to", "到期时间 (止) 不能早于到期时间 (起)。")
        return data

    def province_name(self):
        """The province the list is limited to, for the page to say so (one query, only when set)."""
        from registry.todo import province_name

        code = self.cleaned_data.get("province") if self.is_bound and self.is_valid() else ""
        return (province_name(code) or code) if code else ""


class DeleteDomainsForm(forms.Form):
    ids = PublicIdsField(error_messages={"required": "请先勾选要删除的域名。"})
    reason = forms.CharField(
        label="删除原因",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "删除域名必须填写删除原因。"},
    )
