"""Forms of the 域名解析 pages: one record (添加记录 / 修改), and 解析审核's decision."""

from django import forms
from django.core.exceptions import ValidationError

from registry.domains.forms import PublicIdsField, ReviewDecisionForm

from .models import RecordType, RedirectCode
from .values import clean_record, host_to_unicode, ttl_range


class RecordForm(forms.Form):
    """主机记录*, 记录类型*, 记录值*, TTL — and the fields some types need (MX, CAA, URL转发)."""

    host = forms.CharField(
        label="主机记录",
        max_length=200,
        help_text="@ 表示域名本身；www、* 或其他前缀，可用中文",
        error_messages={"required": "请填写主机记录（如 @、www）。"},
    )
    rtype = forms.ChoiceField(
        label="记录类型",
        choices=[("", "请选择")] + list(RecordType.choices),
        help_text="链接英文网址请选择“URL转发”；链接IP地址请选择“A”。NS 记录把整个域名委派给本单位自己的名称服务器，委派生效后本域名的其他记录不再发布",
        error_messages={"required": "请选择记录类型。", "invalid_choice": "请选择有效的记录类型。"},
    )
    value = forms.CharField(
        label="记录值",
        max_length=2100,
        help_text="A：公网IPv4地址；AAAA：公网IPv6地址；CNAME/MX/NS：主机名；TXT：文本；URL转发：http(s)://开头的网址",
        error_messages={"required": "请填写记录值。"},
    )
    ttl = forms.CharField(label="TTL", required=False, max_length=10)
    priority = forms.CharField(
        label="MX优先级", required=False, max_length=10, help_text="仅MX记录：0-65535，数字越小越优先"
    )
    caa_flags = forms.ChoiceField(label="CAA标志", required=False, choices=[("0", "0"), ("128", "128（关键）")])
    caa_tag = forms.ChoiceField(
        label="CAA标签", required=False, choices=[("issue", "issue"), ("issuewild", "issuewild"), ("iodef", "iodef")]
    )
    redirect_code = forms.TypedChoiceField(
        label="转发方式", required=False, coerce=int, choices=RedirectCode.choices, initial=301
    )
    keep_path = forms.BooleanField(
        label="保留路径和参数", required=False, help_text="仅URL转发：访问 /a?b=1 时转发到 目标网址/a?b=1"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        low, high = ttl_range()
        self.fields["ttl"].help_text = f"{low}-{high}秒，不填为{low}秒"
        self.fields["value"].widget = forms.Textarea(attrs={"rows": 2})
        for name in ("host", "rtype", "value"):
            self.fields[name].widget.attrs["aria-required"] = "true"

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.record = clean_record(
                host=data.get("host"),
                rtype=data.get("rtype"),
                value=data.get("value"),
                ttl=data.get("ttl"),
                priority=data.get("priority"),
                caa_flags=data.get("caa_flags"),
                caa_tag=data.get("caa_tag"),
                redirect_code=data.get("redirect_code"),
                keep_path=data.get("keep_path"),
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data

    @classmethod
    def initial_for(cls, record):
        return {
            "host": host_to_unicode(record.host),
            "rtype": record.rtype,
            "value": record.value if record.rtype not in ("CNAME", "MX", "NS") else host_to_unicode(record.value),
            "ttl": record.ttl,
            "priority": record.priority,
            "caa_flags": record.caa_flags,
            "caa_tag": record.caa_tag,
            "redirect_code": record.redirect_code or 301,
            "keep_path": record.keep_path,
        }


class ChangeDecisionForm(ReviewDecisionForm):
    """解析审核: the ticked change requests, 审核通过 or 审核不通过 with 审核意见."""

    ids = PublicIdsField(error_messages={"required": "请先勾选要审核的解析申请。"})
