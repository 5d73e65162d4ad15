import re

from django import forms

from .services import normalise_code


class CodeForm(forms.Form):
    """A 验证码 from the authenticator app, or (where allowed) a 恢复码."""

    code = forms.CharField(
        label="验证码",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )

    def __init__(self, *args, recovery_allowed=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.recovery_allowed = recovery_allowed
        if recovery_allowed:
            self.fields["code"].label = "验证码或恢复码"
            self.fields["code"].help_text = "输入身份验证器应用显示的6位数字；手机不在身边时，可输入一个恢复码。"
        else:
            self.fields["code"].help_text = "输入身份验证器应用显示的6位数字。"

    def clean_code(self):
        code = normalise_code(self.cleaned_data["code"])
        if re.fullmatch(r"\d{6}", code):
            return code
        if self.recovery_allowed and re.fullmatch(r"[a-z2-7]{8}", code):
            return code
        if self.recovery_allowed:
            raise forms.ValidationError("请输入6位数字验证码，或8位恢复码（如 abcd-efgh）。")
        raise forms.ValidationError("请输入6位数字验证码。")
