"""Forms of the badge pages: the application (both kinds), the review decision, the paper step."""

import ipaddress
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError

from registry.dns.values import clean_hostname, clean_ipv4, clean_ipv6
from registry.domains.forms import PublicIdsField, ReviewDecisionForm
from registry.organisations.validators import normalize_mobile

from .models import ApplicationKind, MountMethod


class ApplicationForm(forms.Form):
    """网站开办审核/资质复核申请 and 标识申请: the fields of GLOSSARY.md, letter for letter."""

    kind = forms.ChoiceField(label="申请类型", error_messages={"required": "请选择申请类型。"})
    site_name = forms.CharField(label="网站名称", max_length=100, error_messages={"required": "请填写网站名称。"})
    domain = forms.ModelChoiceField(
        label="中文域名",
        queryset=None,
        empty_label="请选择",
        error_messages={"required": "请选择中文域名。", "invalid_choice": "请选择本单位注册成功的域名。"},
    )
    english_domain = forms.CharField(
        label="英文域名", max_length=253, required=False, help_text="选填，如 www.example.gov.cn"
    )
    mount_method = forms.ChoiceField(
        label="挂标方式",
        choices=[("", "请选择")] + list(MountMethod.choices),
        error_messages={"required": "请选择挂标方式。"},
        help_text="有自建网站选“自建网站”；没有自建网站选“网络红页”",
    )
    server_ip = forms.CharField(label="网站服务器IP地址", max_length=45, required=False, help_text="自建网站必填")
    home_url = forms.CharField(
        label="网站首页地址", max_length=500, required=False, help_text="自建网站必填，如 http://海淀区示范街道.政务/"
    )
    description = forms.CharField(
        label="网站简介",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写网站简介。"},
    )
    functions = forms.CharField(
        label="机构职能",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="将显示在标识证书上",
    )
    contact_name = forms.CharField(label="联系人", max_length=50, error_messages={"required": "请填写联系人。"})
    contact_mobile = forms.CharField(
        label="联系人手机", max_length=20, error_messages={"required": "请填写联系人手机。"}
    )
    contact_email = forms.EmailField(
        label="联系人邮箱", error_messages={"required": "请填写联系人邮箱。", "invalid": "请填写有效的邮箱地址。"}
    )

    def __init__(self, *args, kinds, domains, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.value, k.label) for k in kinds]
        self.fields["kind"].error_messages["invalid_choice"] = "请选择有效的申请类型。"
        if kinds == [ApplicationKind.BADGE]:
            self.fields["kind"].initial = ApplicationKind.BADGE
            self.fields["kind"].widget = forms.HiddenInput()
        self.fields["domain"].queryset = domains
        self.fields["domain"].label_from_instance = lambda d: d.full_name
        self.fields["mount_method"].error_messages["invalid_choice"] = "请选择有效的挂标方式。"

    def clean_english_domain(self):
        value = self.cleaned_data["english_domain"].strip()
        if not value:
            return ""
        try:
            name = clean_hostname(value, field="english_domain")
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["english_domain"]) from None
        # An English name only: a Chinese name here (another unit's .政务 among them) would let
        # the home page sit on a domain the application does not own.
        if any(label.startswith("xn--") for label in name.split(".")):
            raise ValidationError(
                "英文域名须由英文字母、数字和连字符组成，如 www.example.gov.cn；中文域名请在“中文域名”中选择。"
            )
        return name

    def clean_contact_mobile(self):
        return normalize_mobile(self.cleaned_data["contact_mobile"])

    def clean(self):
        data = super().clean()
        if data.get("mount_method") != MountMethod.SELF_HOSTED:
            data["server_ip"], data["home_url"] = "", ""
            return data
        ip = (data.get("server_ip") or "").strip()
        if not ip:
            self.add_error("server_ip", "自建网站须填写网站服务器IP地址。")
        else:
            try:
                data["server_ip"] = clean_ipv6(ip) if ":" in ip else clean_ipv4(ip)
            except ValidationError:
                # The DNS checks' own messages speak of A/AAAA records; say it for the website.
                self.add_error("server_ip", server_ip_error(ip))
        url = (data.get("home_url") or "").strip()
        if not url:
            self.add_error("home_url", "自建网站须填写网站首页地址。")
        elif data.get("domain") is not None:
            error = home_url_error(url, data["domain"], data.get("english_domain"))
            if error:
                self.add_error("home_url", error)
            else:
                data["home_url"] = url
        return data


def server_ip_error(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return f"“{text}”不是有效的IP地址，请填写网站服务器的公网IPv4或IPv6地址，如 202.96.0.10。"
    return f"{text} 不是公网地址，请填写网站服务器的公网IPv4或IPv6地址。"


def home_url_error(url, domain, english_domain):
    """The home page must be http(s) on one of the application's own domains (or its www.)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "网站首页地址须以 http:// 或 https:// 开头。"
    if "@" in parts.netloc:
        return "网站首页地址不能包含用户名或密码。"
    try:
        host = clean_hostname(parts.hostname or "")
    except ValidationError:
        return "网站首页地址的主机名无效。"
    allowed = {domain.full_alabel}
    if english_domain:
        allowed.add(english_domain)
    allowed |= {f"www.{name}" for name in list(allowed) if not name.startswith("www.")}
    if host not in allowed:
        return (
            f"网站首页地址须在本申请的域名之下（{domain.full_name}{'、' + english_domain if english_domain else ''}）。"
        )
    return None


class DecisionForm(ReviewDecisionForm):
    """网站开办及标识申请审核: the ticked applications, 审核通过 / 审核不通过 with 审核意见."""

    ids = PublicIdsField(error_messages={"required": "请先勾选要审核的申请。"})


class PaperForm(forms.Form):
    """资料确认 or 资料不符 (with its reason) for one application."""

    action = forms.ChoiceField(choices=[("confirm", "资料确认"), ("mismatch", "资料不符")])
    reason = forms.CharField(
        label="资料不符原因", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        if data.get("action") == "mismatch" and not (data.get("reason") or "").strip():
            self.add_error("reason", "资料不符时必须填写原因。")
        return data


class RedPageForm(forms.Form):
    """网络红页: 单位简介 and 页脚 accept a little HTML (sanitised at 预览 and 发布红页); the rest is plain text."""

    RICH_HELP = "可使用少量HTML：段落、加粗、列表、标题（h2、h3）、引用、表格和 http/https/mailto 链接；其他标签、样式和脚本会被去除。"

    intro = forms.CharField(
        label="单位简介",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=RICH_HELP,
        error_messages={"max_length": "单位简介不能超过 %(limit_value)d 个字符（当前 %(show_value)d 个）。"},
    )
    functions = forms.CharField(
        label="机构职能",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="纯文本，按原样显示（保留换行）。",
        error_messages={"max_length": "机构职能不能超过 %(limit_value)d 个字符（当前 %(show_value)d 个）。"},
    )
    address = forms.CharField(
        label="单位地址",
        required=False,
        max_length=200,
        error_messages={"max_length": "单位地址不能超过 %(limit_value)d 个字符。"},
    )
    phone = forms.RegexField(
        label="联系电话",
        required=False,
        max_length=50,
        regex=r"^[0-9+\-()（）、，,/ 转]*$",
        help_text="如 010-12345678，多个号码用“、”分隔。",
        error_messages={
            "invalid": "联系电话只能包含数字、空格和 + - ( ) 、 , / 转 等符号。",
            "max_length": "联系电话不能超过 %(limit_value)d 个字符。",
        },
    )
    footer = forms.CharField(
        label="页脚",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="与单位简介相同的规则。网站标识总是显示在页脚之后，无法删除或隐藏。",
        error_messages={"max_length": "页脚不能超过 %(limit_value)d 个字符（当前 %(show_value)d 个）。"},
    )
