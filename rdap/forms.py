from django import forms
from django.core.exceptions import ValidationError

from . import names


class LookupForm(forms.Form):
    """域名信息查询: one name, Unicode or A-label, with its suffix."""

    name = forms.CharField(
        label="域名",
        max_length=300,
        help_text="如 某某市人民政府.政务、某某图书馆.公益，也可填写 A-label（xn--…）",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
        error_messages={"required": "请填写域名"},
    )

    def clean_name(self):
        raw = self.cleaned_data["name"]
        try:
            return names.parse(raw)
        except names.Malformed as exc:
            raise ValidationError(str(exc)) from None
        except names.NotOurs as exc:
            if "." not in names.remap(raw):
                raise ValidationError("请填写完整的域名，包括后缀 .政务 或 .公益，如 某某市人民政府.政务") from None
            raise ValidationError(f"{exc}。本系统只登记 .政务 和 .公益 域名。") from None
