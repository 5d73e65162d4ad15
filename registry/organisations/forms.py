"""Forms for 新用户注册, 详细信息 and passwords: validate, return typed data."""

import re
import unicodedata

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from .models import LEVEL_REGION, Region, Unit, UnitLevel, User
from .validators import (
    PASSWORD_RULE,
    ineligible_reason,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
    validate_credit_code,
    validate_id_number,
    validate_password_rule,
)

CREDIT_CODE_REGISTERED = "该统一社会信用代码已注册，如有疑问请联系同级编办"


class RegionWidget(forms.Widget):
    """所在地区 as cascading selects (province → prefecture/district → county), filled by htmx."""

    template_name = "registry/widgets/region.html"
    depth = 3

    def id_for_label(self, id_):
        # The label 所在地区 points at the first select; there is no element with the bare id.
        return f"{id_}_0" if id_ else id_

    def value_from_datadict(self, data, files, name):
        chosen = [data.get(f"{name}_{i}") for i in range(self.depth)]
        chosen = [c for c in chosen if c]
        return chosen[-1] if chosen else ""

    def value_omitted_from_data(self, data, files, name):
        return not any(f"{name}_{i}" in data for i in range(self.depth))

    def with_change(self, data, name):
        """The values after select ``{name}_changed`` changed: deeper choices are dropped."""
        try:
            changed = int(data.get(f"{name}_changed", self.depth))
        except (TypeError, ValueError):
            changed = self.depth  # a tampered parameter: keep every choice, never a 500
        kept = {f"{name}_{i}": data.get(f"{name}_{i}", "") for i in range(min(changed + 1, self.depth))}
        return self.value_from_datadict(kept, None, name)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        code = value.code if isinstance(value, Region) else value
        if isinstance(code, int) or (isinstance(code, str) and code.isdigit() and len(code) < 6):
            region = Region.objects.filter(pk=code).first()
        else:
            region = Region.objects.filter(code=code).first() if code else None
        path = []
        while region is not None:
            path.insert(0, region)
            region = region.parent
        levels = []
        parent = None
        for i in range(self.depth):
            if i > 0 and parent is None:
                options = []
            else:
                options = list(Region.objects.filter(parent=parent).values_list("code", "name"))
            selected = path[i].code if i < len(path) else ""
            levels.append({"name": f"{name}_{i}", "index": i, "options": options, "selected": selected})
            parent = path[i] if i < len(path) else None
        context["widget"]["levels"] = levels
        context["widget"]["depth"] = self.depth
        return context


class RegionField(forms.ModelChoiceField):
    widget = RegionWidget

    def __init__(self, **kwargs):
        super().__init__(queryset=Region.objects.all(), to_field_name="code", **kwargs)
        self.error_messages["invalid_choice"] = "请选择有效的所在地区。"


class UnitFieldsForm(forms.ModelForm):
    """The unit's * fields, shared by 新用户注册 and 详细信息."""

    region = RegionField(label="所在地区")

    class Meta:
        model = Unit
        fields = [
            "name", "kind", "credit_code", "region", "level", "address", "leader", "contact",
            "contact_mobile", "contact_email", "office_phone", "handler", "handler_id_number",
        ]  # fmt: skip
        widgets = {"kind": forms.Select, "level": forms.Select}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in Unit.REQUIRED_FIELDS:
            field = self.fields[name]
            field.required = True
            field.error_messages["required"] = f"请填写{field.label}。"
            field.label_suffix = "*"
        for name in ("kind", "level"):
            self.fields[name].error_messages["required"] = f"请选择{self.fields[name].label}。"
            self.fields[name].error_messages["invalid_choice"] = f"请选择有效的{self.fields[name].label}。"
            self.fields[name].choices = [("", "请选择")] + [c for c in self.fields[name].choices if c[0]]
        # Django's own zh-hans text mixes in English ("Email 地址").
        self.fields["contact_email"].error_messages["invalid"] = "请输入有效的电子邮箱地址。"
        if self.instance.pk:
            self.initial["contact_mobile"] = self.instance.contact_mobile_display
        self.fields["credit_code"].widget.attrs.update({"maxlength": 18, "autocomplete": "off"})
        self.fields["handler_id_number"].widget.attrs.update({"maxlength": 18, "autocomplete": "off"})

    def clean_credit_code(self):
        code = normalize_credit_code(self.cleaned_data["credit_code"])
        validate_credit_code(code)
        refusal = ineligible_reason(code)
        if refusal:
            raise ValidationError(refusal)
        clash = Unit.objects.filter(credit_code=code).exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError("该统一社会信用代码已注册，请勿重复注册；如忘记密码请联系同级编办。")
        return code

    def clean_handler_id_number(self):
        number = normalize_id_number(self.cleaned_data["handler_id_number"])
        validate_id_number(number)
        return number

    def clean_contact_mobile(self):
        return normalize_mobile(self.cleaned_data["contact_mobile"])

    def clean(self):
        data = super().clean()
        level, region = data.get("level"), data.get("region")
        if level and region:
            needed = LEVEL_REGION.get(level)
            if needed and region.level != needed:
                self.add_error(
                    "region",
                    f"单位级别为“{UnitLevel(level).label}”时，所在地区须选择到{Region.Level(needed).label}行政区划"
                    f"（当前所选“{region.full_name}”为{region.get_level_display()}）。",
                )
        return data

    def unit_data(self):
        return {f: self.cleaned_data.get(f, "") for f in self.Meta.fields}


class RegistrationForm(UnitFieldsForm):
    username = forms.RegexField(
        label="用户名",
        max_length=30,
        min_length=4,
        regex=r"^[A-Za-z0-9_]+$",
        error_messages={
            "required": "请填写用户名。",
            "invalid": "用户名只能包含英文字母、数字和下划线。",
            "min_length": "用户名至少4个字符。",
            "max_length": "用户名最多30个字符。",
        },
    )
    password = forms.CharField(
        strip=False,
        label="密码",
        widget=forms.PasswordInput,
        help_text=PASSWORD_RULE,
        error_messages={"required": "请填写密码。"},
    )
    password_confirm = forms.CharField(
        strip=False, label="确认密码", widget=forms.PasswordInput, error_messages={"required": "请再次输入密码。"}
    )

    mobile_code = forms.CharField(
        label="短信验证码",
        error_messages={"required": "请填写短信验证码。"},
        widget=forms.TextInput(
            attrs={"maxlength": 6, "inputmode": "numeric", "autocomplete": "one-time-code", "size": 8}
        ),
    )

    field_order = ["username", "password", "password_confirm"]

    # The registered unit whose credit code this submission repeats (its office is told).
    clashing_unit = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("username", "password", "password_confirm", "mobile_code"):
            self.fields[name].label_suffix = "*"

    def clean_credit_code(self):
        try:
            return super().clean_credit_code()
        except ValidationError:
            code = normalize_credit_code(self.cleaned_data["credit_code"])
            self.clashing_unit = Unit.objects.select_related("office").filter(credit_code=code).first()
            if self.clashing_unit is not None:
                # The wording, exactly: the applicant is sent to the office, which is told too.
                raise ValidationError(CREDIT_CODE_REGISTERED) from None
            raise

    def clean_mobile_code(self):
        # Full-width digits typed with a Chinese input method count as the digits they show.
        code = unicodedata.normalize("NFKC", self.cleaned_data["mobile_code"]).strip()
        if not re.fullmatch(r"[0-9]{6}", code):
            raise ValidationError("请输入短信中的6位数字验证码。")
        return code

    def claimant(self):
        """What the applicant typed, for the office told of a repeated credit code (all unproven)."""
        typed = {name: self.data.get(name, "") for name in ("name", "contact", "contact_mobile", "contact_email")}
        return {name: str(value).strip()[:100] for name, value in typed.items()}

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError("该用户名已被使用，请换一个。")
        return username

    def clean_password(self):
        password = self.cleaned_data["password"]
        validate_password_rule(password)
        return password

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_confirm") and data["password"] != data["password_confirm"]:
            self.add_error("password_confirm", "两次输入的密码不一致。")
        return data


class MobileCodeForm(forms.Form):
    """获取验证码: the 联系人手机 the code goes to."""

    contact_mobile = forms.CharField(label="联系人手机", error_messages={"required": "请先填写联系人手机。"})

    def clean_contact_mobile(self):
        return normalize_mobile(self.cleaned_data["contact_mobile"])


class UnitDetailForm(UnitFieldsForm):
    """详细信息: the office changes a unit's information and may reset its password with 修改."""

    new_password = forms.CharField(
        strip=False,
        label="新密码",
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="8-16 位半角英文和数字混合；不重置密码请留空",
    )

    def clean_new_password(self):
        password = self.cleaned_data.get("new_password", "")
        if password:
            validate_password_rule(password)
        return password

    def clean(self):
        data = super().clean()
        if any(name in self.errors for name in Unit.REQUIRED_FIELDS):
            self.add_error(None, "必须将所有带*号的信息完善后才能修改成功")
        return data


class ResetPasswordForm(forms.Form):
    new_password = forms.CharField(
        strip=False,
        label="新密码",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="8-16 位半角英文和数字混合",
        error_messages={"required": "请填写新密码。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password"].label_suffix = "*"

    def clean_new_password(self):
        password = self.cleaned_data["new_password"]
        validate_password_rule(password)
        return password


class ChangeOwnPasswordForm(forms.Form):
    old_password = forms.CharField(
        strip=False, label="原密码", widget=forms.PasswordInput, error_messages={"required": "请填写原密码。"}
    )
    new_password = forms.CharField(
        strip=False,
        label="新密码",
        widget=forms.PasswordInput,
        help_text=PASSWORD_RULE,
        error_messages={"required": "请填写新密码。"},
    )
    new_password_confirm = forms.CharField(
        strip=False, label="确认密码", widget=forms.PasswordInput, error_messages={"required": "请再次输入新密码。"}
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        if not self.user.check_password(self.cleaned_data["old_password"]):
            raise ValidationError("原密码不正确。")
        return self.cleaned_data["old_password"]

    def clean_new_password(self):
        password = self.cleaned_data["new_password"]
        password_validation.validate_password(password, self.user)
        return password

    def clean(self):
        data = super().clean()
        if (
            data.get("new_password")
            and data.get("new_password_confirm")
            and data["new_password"] != data["new_password_confirm"]
        ):
            self.add_error("new_password_confirm", "两次输入的密码不一致。")
        return data
