"""China-specific validators: 统一社会信用代码, 居民身份证号, mobile numbers, passwords.

Each raises ``ValidationError`` with a Chinese message a user can act on.
"""

import re
from datetime import date

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils import timezone

# GB 32100-2015: the 31 characters of the code, value = index (no I, O, S, V, Z).
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = [pow(3, i, 31) for i in range(17)]
ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]

# Positions 1–2: registration authority and organisation category.
CREDIT_CODE_CATEGORIES = {
    "11": "机构编制：机关",
    "12": "机构编制：事业单位",
    "13": "机构编制：中央编办直接管理机构编制的群众团体",
    "19": "机构编制：其他",
    "21": "外交：外国常驻新闻机构",
    "29": "外交：其他",
    "31": "司法行政：律师执业机构",
    "32": "司法行政：公证处",
    "33": "司法行政：基层法律服务所",
    "34": "司法行政：司法鉴定机构",
    "35": "司法行政：仲裁委员会",
    "39": "司法行政：其他",
    "41": "文化：外国在华文化中心",
    "49": "文化：其他",
    "51": "民政：社会团体",
    "52": "民政：民办非企业单位",
    "53": "民政：基金会",
    "59": "民政：其他",
    "61": "旅游：外国旅游部门常驻代表机构",
    "62": "旅游：港澳台地区旅游部门常驻内地（大陆）代表机构",
    "69": "旅游：其他",
    "71": "宗教：宗教活动场所",
    "72": "宗教：宗教院校",
    "79": "宗教：其他",
    "81": "工会：基层工会",
    "89": "工会：其他",
    "91": "工商：企业",
    "92": "工商：个体工商户",
    "93": "工商：农民专业合作社",
    "A1": "中央军委改革和编制办公室：军队事业单位",
    "A9": "中央军委改革和编制办公室：其他",
    "N1": "农业：农村集体经济组织",
    "N2": "农业：农民专业合作社",
    "N3": "农业：农村集体经济组织（村级）",
    "N9": "农业：其他",
    "Y1": "其他",
}


def credit_code_check_char(first17):
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8):
    """GB 11714 organisation code check character (positions 9–17 of a credit code)."""
    total = 0
    for char, weight in zip(first8, ORG_CODE_WEIGHTS, strict=True):
        value = int(char) if char.isdigit() else ord(char) - ord("A") + 10
        total += value * weight
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def normalize_credit_code(value):
    return (value or "").strip().upper()


def validate_credit_code(value):
    code = normalize_credit_code(value)
    if len(code) != 18:
        raise ValidationError("统一社会信用代码应为18位，当前为%(n)s位。", params={"n": len(code)}, code="length")
    bad = sorted({c for c in code if c not in CREDIT_CODE_ALPHABET})
    if bad:
        raise ValidationError(
            "统一社会信用代码含有不允许的字符：%(chars)s（不使用 I、O、S、V、Z）。",
            params={"chars": "、".join(bad)},
            code="charset",
        )
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValidationError("统一社会信用代码校验位不正确，请核对后重新输入。", code="checksum")


def credit_code_category(code):
    """What positions 1–2 of a credit code say about the organisation."""
    return CREDIT_CODE_CATEGORIES.get(normalize_credit_code(code)[:2], "未知类别")


def ineligible_reason(code):
    """Why the registering authority in positions 1–2 rules the applicant out, or None.

    Codes issued by 工商 (9x: enterprises, 个体工商户, 农民专业合作社) belong to market
    entities, which may not hold .政务 or .公益 names.
    """
    code = normalize_credit_code(code)
    if code[:1] == "9":
        return (
            f"统一社会信用代码第1-2位“{code[:2]}”表示{credit_code_category(code)}；企业、个体工商户和农民专业合作社"
            "不能注册.政务或.公益域名。"
        )
    return None


# The 单位类型 each registering authority's category normally means (positions 1–2).
EXPECTED_KIND = {"11": "organ", "12": "institution", "51": "social_org", "52": "social_org", "53": "social_org"}


def kind_mismatch(code, kind):
    """A note for reviewers when the code's category and the declared 单位类型 disagree, else ''."""
    expected = EXPECTED_KIND.get(normalize_credit_code(code)[:2])
    if expected is None or expected == kind:
        return ""
    from .models import UnitKind

    return f"信用代码类别为“{credit_code_category(code)}”，与申报的单位类型“{UnitKind(kind).label}”不一致，请核实。"


ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
ID_CHECK = "10X98765432"
# ASCII only: a bare \d would also accept full-width digits such as "１".
ID_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")


def normalize_id_number(value):
    return (value or "").strip().upper()


def validate_id_number(value):
    number = normalize_id_number(value)
    if not ID_PATTERN.match(number):
        raise ValidationError("身份证号应为18位：前17位为数字，最后一位为数字或X。", code="format")
    try:
        birthdate = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError("身份证号中的出生日期无效。", code="birthdate") from None
    if birthdate > timezone.localdate():
        raise ValidationError("身份证号中的出生日期无效。", code="birthdate")
    total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
    if ID_CHECK[total % 11] != number[17]:
        raise ValidationError("身份证号校验位不正确，请核对后重新输入。", code="checksum")


def normalize_mobile(value):
    """Return a Chinese mobile number in E.164 (+8613...), or raise ``ValidationError``."""
    raw = (value or "").strip()
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise ValidationError("请输入有效的中国大陆手机号码。", code="mobile") from None
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise ValidationError("请输入有效的中国大陆手机号码（不接受固定电话）。", code="mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_mobile(e164):
    return e164[3:] if e164.startswith("+86") else e164


# Half-width only: a bare \d would also accept full-width digits such as "１".
# fullmatch: the whole value, so a trailing newline ("Abcd1234\n") or a space does not slip through.
PASSWORD_PATTERN = re.compile(r"(?=.*[A-Za-z])(?=.*[0-9])[A-Za-z0-9]{8,16}")
PASSWORD_RULE = "密码必须是8-16位半角英文和数字混合。"


def validate_password_rule(value):
    """The manual's rule: 8–16 half-width characters mixing letters and digits."""
    if not isinstance(value, str) or not PASSWORD_PATTERN.fullmatch(value):
        raise ValidationError(PASSWORD_RULE, code="password_rule")


class ManualPasswordValidator:
    """AUTH_PASSWORD_VALIDATORS entry enforcing the manual's rule everywhere a password is set."""

    def validate(self, password, user=None):
        validate_password_rule(password)

    def get_help_text(self):
        return PASSWORD_RULE
