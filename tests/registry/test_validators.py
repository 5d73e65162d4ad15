"""The China-specific validators, with the published examples of RECIPES.md and wrong inputs."""

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from registry.organisations.validators import (
    credit_code_category,
    credit_code_check_char,
    normalize_mobile,
    org_code_check_char,
    validate_credit_code,
    validate_id_number,
    validate_password_rule,
)

VALID_CREDIT_CODE = "91350100M000100Y43"


def _messages(exc_info):
    return " ".join(exc_info.value.messages)


# --- 统一社会信用代码 (GB 32100-2015) ------------------------------------------------


def test_published_credit_code_is_valid():
    validate_credit_code(VALID_CREDIT_CODE)
    validate_credit_code(VALID_CREDIT_CODE.lower())  # typed in lower case: same code
    validate_credit_code(f"  {VALID_CREDIT_CODE} ")


def test_credit_code_starting_with_a_letter_passes():
    # python-stdnum rejects these; GB 32100 allows registration authorities A1, N1... .
    org = "M0001000"
    body = f"A1100000{org}{org_code_check_char(org)}"
    code = body + credit_code_check_char(body)
    assert code[0] == "A"
    validate_credit_code(code)
    assert credit_code_category(code).startswith("中央军委")


@pytest.mark.parametrize("wrong_check", ["2", "4", "A", "Y", "0"])
def test_credit_code_with_wrong_check_character_is_rejected(wrong_check):
    with pytest.raises(ValidationError) as exc_info:
        validate_credit_code(VALID_CREDIT_CODE[:17] + wrong_check)
    assert "校验位不正确" in _messages(exc_info)


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_credit_code_with_a_forbidden_letter_is_rejected(letter):
    code = VALID_CREDIT_CODE[:8] + letter + VALID_CREDIT_CODE[9:]
    with pytest.raises(ValidationError) as exc_info:
        validate_credit_code(code)
    message = _messages(exc_info)
    assert "不允许的字符" in message and letter in message


@pytest.mark.parametrize(
    "code",
    ["", "9135010", VALID_CREDIT_CODE[:17], VALID_CREDIT_CODE + "3", VALID_CREDIT_CODE + "00"],
)
def test_credit_code_of_wrong_length_is_rejected(code):
    with pytest.raises(ValidationError) as exc_info:
        validate_credit_code(code)
    assert "应为18位" in _messages(exc_info)


def test_credit_code_with_punctuation_or_fullwidth_characters_is_rejected():
    for code in ["91350100-000100Y43", "９1350100M000100Y43"]:
        with pytest.raises(ValidationError) as exc_info:
            validate_credit_code(code)
        assert "不允许的字符" in _messages(exc_info)


def test_credit_code_category_reads_the_first_two_characters():
    assert credit_code_category("11" + "0" * 16) == "机构编制：机关"
    assert credit_code_category("12" + "0" * 16) == "机构编制：事业单位"
    assert credit_code_category(VALID_CREDIT_CODE) == "工商：企业"
    assert credit_code_category("ZZ" + "0" * 16) == "未知类别"


def test_organisation_code_check_character_matches_the_standard_example():
    assert org_code_check_char("40000062") == "4"
    assert org_code_check_char("M000100Y") == "4"  # positions 9–17 of the published credit code


# --- 居民身份证号 (GB 11643-1999) --------------------------------------------------


@pytest.mark.parametrize("number", ["11010519491231002X", "11010519491231002x", "440524188001010014"])
def test_published_id_numbers_are_valid(number):
    validate_id_number(number)


@pytest.mark.parametrize("number", ["110105194912310021", "440524188001010015", "44052418800101001X"])
def test_id_number_with_wrong_check_character_is_rejected(number):
    with pytest.raises(ValidationError) as exc_info:
        validate_id_number(number)
    assert "校验位不正确" in _messages(exc_info)


def _with_check(body17):
    from registry.organisations.validators import ID_CHECK, ID_WEIGHTS

    return body17 + ID_CHECK[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


@pytest.mark.parametrize("birthdate", ["19490230", "19491301", "19490000", "20990101"])
def test_id_number_with_impossible_birthdate_is_rejected(birthdate):
    # The check character is right, so only the date can be what is wrong.
    number = _with_check(f"110105{birthdate}002")
    with pytest.raises(ValidationError) as exc_info:
        validate_id_number(number)
    assert "出生日期无效" in _messages(exc_info)


@pytest.mark.parametrize(
    "number",
    [
        "",
        "1101051949123100",
        "11010519491231002XX",
        "11010519491231002A",
        "１１０１０５１９４９１２３１００２Ｘ",
        "１１０１０５１９４９１２３１００２X",
    ],
)
def test_id_number_of_wrong_format_is_rejected(number):
    with pytest.raises(ValidationError) as exc_info:
        validate_id_number(number)
    assert "身份证号应为18位" in _messages(exc_info)


# --- 联系人手机 -------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["13800138000", " 138 0013 8000 ", "+86 138-0013-8000", "8613800138000"])
def test_mobile_is_stored_in_e164(raw):
    assert normalize_mobile(raw) == "+8613800138000"


@pytest.mark.parametrize("raw", ["010-12345678", "01012345678", "021-87654321"])
def test_fixed_line_is_rejected(raw):
    with pytest.raises(ValidationError) as exc_info:
        normalize_mobile(raw)
    assert "不接受固定电话" in _messages(exc_info)


@pytest.mark.parametrize(
    "raw", ["", "abc", "手机号", "1380013800", "138001380001", "+1 202 555 0123", "+852 9123 4567"]
)
def test_garbage_and_foreign_numbers_are_rejected(raw):
    with pytest.raises(ValidationError) as exc_info:
        normalize_mobile(raw)
    assert "手机号码" in _messages(exc_info)


# --- 密码: 8–16 half-width letters and digits ----------------------------------------


@pytest.mark.parametrize("password", ["Abcdefg1", "abc12345", "1234567a", "Abcdefgh12345678"])
def test_password_rule_accepts_letters_and_digits_of_8_to_16(password):
    validate_password_rule(password)
    password_validation.validate_password(password)  # the same rule wherever Django sets one


@pytest.mark.parametrize(
    "password",
    [
        "Abc1234",  # 7: too short
        "Abcdefgh123456789",  # 17: too long
        "Abcdefghij",  # letters only
        "1234567890",  # digits only
        "Ａｂｃｄ１２３４",  # full-width letters and digits
        "abcdefg１",  # one full-width digit
        "abcd1234！",  # full-width punctuation
        "abcd1234!",  # a symbol
        "abcd 1234",  # a space
        "密码abc12345",  # Chinese characters
        "",
    ],
)
def test_password_rule_rejects(password):
    with pytest.raises(ValidationError) as exc_info:
        validate_password_rule(password)
    assert "8-16位半角英文和数字混合" in _messages(exc_info)
    with pytest.raises(ValidationError):
        password_validation.validate_password(password)
