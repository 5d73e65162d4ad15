"""The pure name rules of 域名申请: what a unit may type, and the message it gets when it may not."""

import re

import idna
import pytest
from django.core.exceptions import ValidationError

from registry.domains.names import (
    SUFFIXES,
    check_suffix_for_kind,
    configured_suffixes,
    normalize_label,
    suffix_for_kind,
    validate_label,
    variants_of,
)
from registry.models import UnitKind

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def punycode_length(label):
    """Octets of the A-label, computed without the module under test."""
    return len("xn--" + label.encode("punycode").decode("ascii"))


def rejection(raw, suffix=".政务"):
    with pytest.raises(ValidationError) as excinfo:
        validate_label(raw, suffix=suffix)
    [message] = excinfo.value.messages
    assert CHINESE.search(message), f"message is not Chinese: {message!r}"
    return excinfo.value.code, message


# --- suffixes -------------------------------------------------------------------------


def test_suffix_alabels_match_the_published_tlds():
    assert SUFFIXES == {".政务": "xn--zfr164b", ".公益": "xn--55qw42g"}
    assert idna.encode("政務").decode() == "xn--lhrz14b"


def test_suffixes_follow_settings(settings):
    settings.DOMAIN_SUFFIXES = [".政务"]
    assert configured_suffixes() == {".政务": "xn--zfr164b"}
    assert rejection("北京市", suffix=".公益")[0] == "suffix"


def test_suffix_follows_unit_kind():
    assert suffix_for_kind(UnitKind.ORGAN) == ".政务"
    assert suffix_for_kind("organ") == ".政务"
    assert suffix_for_kind(UnitKind.INSTITUTION) == ".公益"
    assert suffix_for_kind(UnitKind.SOCIAL_ORG) == ".公益"


def test_matching_suffix_for_kind_is_accepted():
    check_suffix_for_kind(".政务", UnitKind.ORGAN)
    check_suffix_for_kind(".公益", UnitKind.INSTITUTION)
    check_suffix_for_kind("公益", "social_org")


def test_organ_cannot_register_public_welfare_suffix():
    with pytest.raises(ValidationError, match=r"党政机关只能注册\.政务域名"):
        check_suffix_for_kind(".公益", UnitKind.ORGAN)


@pytest.mark.parametrize("kind", [UnitKind.INSTITUTION, UnitKind.SOCIAL_ORG])
def test_institution_and_social_org_cannot_register_government_suffix(kind):
    with pytest.raises(ValidationError, match=r"事业单位和社会组织只能注册\.公益域名"):
        check_suffix_for_kind(".政务", kind)


@pytest.mark.parametrize("suffix", [".com", ".政府", ".gov.cn"])
def test_unknown_suffix_is_refused(suffix):
    code, message = rejection("北京市", suffix=suffix)
    assert code == "suffix"
    assert suffix in message and ".政务" in message and ".公益" in message


def test_missing_suffix_is_refused():
    assert rejection("北京市", suffix="") == ("suffix", "请选择域名后缀")


# --- good names -----------------------------------------------------------------------


def test_chinese_name_is_stored_with_both_forms():
    check = validate_label("北京市海淀区", suffix=".政务")
    assert check.label == "北京市海淀区"
    assert check.alabel == idna.encode("北京市海淀区").decode()
    assert check.alabel.startswith("xn--")
    assert check.suffix == ".政务"
    assert check.suffix_alabel == "xn--zfr164b"
    assert check.full == "北京市海淀区.政务"
    assert check.full_alabel == check.alabel + ".xn--zfr164b"


def test_public_welfare_name():
    check = validate_label("中国政府网", suffix=".公益")
    assert check.full == "中国政府网.公益"
    assert check.full_alabel.endswith(".xn--55qw42g")


def test_chinese_with_letters_digits_and_hyphens_is_allowed():
    mixed = validate_label("北京12345", suffix=".政务")
    assert mixed.label == "北京12345"
    assert mixed.alabel == idna.encode("北京12345").decode()
    assert validate_label("bei-jing图书馆", suffix=".政务").label == "bei-jing图书馆"
    assert validate_label("12345北", suffix=".公益").label == "12345北"
    assert validate_label("a-北-1", suffix=".政务").label == "a-北-1"


@pytest.mark.parametrize("raw", ["ＢＥＩＪＩＮＧ市", "BeiJing市", "  beijing市  ", "ｂｅｉｊｉｎｇ市"])
def test_upper_case_and_full_width_latin_are_folded(raw):
    check = validate_label(raw, suffix=".政务")
    assert check.label == "beijing市"
    assert check.full_alabel == idna.encode("beijing市").decode() + ".xn--zfr164b"


# --- the Chinese-character rule (CDNC practice for Chinese-script IDNs) -----------------

NO_CHINESE = ("no_chinese", "域名须包含至少一个汉字，可搭配字母、数字和连字符。")


@pytest.mark.parametrize(
    "raw", ["abc", "beijing12345", "bei-jing", "ＡＢＣ", "12345", "a1-b2", "〇", "〇-1", "ＡＢＣ１２"]
)
def test_name_without_a_chinese_character_is_refused_with_the_rule(raw):
    assert rejection(raw) == NO_CHINESE


@pytest.mark.parametrize(
    "label",
    [
        "北",  # CJK Unified Ideographs
        "\u3400图书馆",  # Extension A
        "\U00020000",  # Extension B
        "\U0002a700",  # Extension C
        "\U0002b740",  # Extension D
        "\U0002b820",  # Extension E
        "\U0002ceb0",  # Extension F
        "\U00030000",  # Extension G
        "二〇二六北京",  # 〇 may accompany a Chinese character
    ],
)
def test_every_cjk_unified_ideographs_block_counts_as_chinese(label):
    assert validate_label(label, suffix=".政务").label == label


def test_ascii_alabel_of_a_chinese_name_counts_by_its_decoded_form():
    assert validate_label(idna.encode("图书馆").decode(), suffix=".公益").label == "图书馆"


def test_other_rules_are_reported_before_the_chinese_rule():
    # The character, hyphen and dot rules name what to fix first; the Chinese rule follows.
    assert rejection("bei_jing")[0] == "characters"
    assert rejection("-beijing")[0] == "hyphen"
    assert rejection("ab--cd")[0] == "hyphen34"


def test_full_width_digits_and_hyphen_are_folded():
    assert normalize_label("ＡＢ－１２") == "ab-12"


@pytest.mark.parametrize("raw", ["北京市.政务", "北京市。政务", "北京市．政务", "北京市.xn--zfr164b", " 北京市。政务 "])
def test_suffix_typed_into_the_name_is_dropped(raw):
    assert normalize_label(raw) == "北京市"
    assert validate_label(raw, suffix=".政务").full == "北京市.政务"


def test_suffix_typed_into_the_name_must_match_the_chosen_suffix():
    code, message = rejection("北京市。公益", suffix=".政务")
    assert code == "suffix_mismatch"
    assert ".公益" in message and ".政务" in message


def test_typed_alabel_is_accepted_as_its_chinese_name():
    check = validate_label("XN--ZFR164B", suffix=".公益")
    assert check.label == "政务"
    assert check.alabel == "xn--zfr164b"
    assert check.full == "政务.公益"


@pytest.mark.parametrize("raw", ["xn--abc", "xn--zfr164b-", "xn--", "xn--ZFR164B-"])
def test_broken_alabel_is_refused_with_a_request_for_the_chinese_name(raw):
    code, message = rejection(raw)
    assert code == "alabel"
    assert "请直接填写中文域名" in message


def test_alabel_of_an_ascii_name_is_refused():
    # "xn--" + punycode of a pure-ASCII string is not an A-label; accepting it
    # would give one domain two spellings.
    assert rejection("xn--beijing-")[0] == "alabel"


# --- bad names ------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "   ", None, ".政务", "。政务"])
def test_empty_name(raw):
    assert rejection(raw) == ("empty", "请填写域名")


@pytest.mark.parametrize("raw", ["www.北京市", "北京。海淀", "北京市.", "北京.com"])
def test_only_one_level_may_be_registered(raw):
    code, message = rejection(raw)
    assert code == "dot"
    assert "一级" in message


@pytest.mark.parametrize("raw", ["-北京市", "-beijing"])
def test_leading_hyphen(raw):
    assert rejection(raw) == ("hyphen", "域名不能以连字符“-”开头或结尾")


@pytest.mark.parametrize("raw", ["北京市-", "beijing-"])
def test_trailing_hyphen(raw):
    assert rejection(raw) == ("hyphen", "域名不能以连字符“-”开头或结尾")


@pytest.mark.parametrize("raw", ["ab--cd", "北京--市"])
def test_double_hyphen_in_positions_3_and_4(raw):
    assert rejection(raw) == ("hyphen34", "域名的第3、4位不能同时为连字符“--”")


def test_double_hyphen_elsewhere_is_allowed():
    assert validate_label("北京市--区", suffix=".政务").label == "北京市--区"
    assert validate_label("abc--北", suffix=".政务").label == "abc--北"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("北京 海淀", "空格"),
        ("北京\u3000海淀", "空格"),
        ("北京、海淀", "“、”"),
        ("bei_jing", "“_”"),
        ("北京_海淀", "“_”"),
        ("北京😀", "“😀”"),
        ("中国·北京", "“·”"),
        ("北京！", "“！”"),
        ("北京（海淀）", "“（”"),
        ("北京@海淀", "“@”"),
        ("北京\u200d海淀", "U+200D"),
    ],
)
def test_spaces_punctuation_symbols_and_emoji_are_named_in_the_message(raw, shown):
    code, message = rejection(raw)
    assert code == "characters"
    assert message.startswith("域名不能包含")
    assert shown in message


def test_every_offending_character_is_listed_once():
    code, message = rejection("北京_海淀_区、😀")
    assert code == "characters"
    assert message.count("“_”") == 1
    assert "“、”" in message and "“😀”" in message


def test_name_that_breaks_idna_bidi_rule_gets_a_chinese_message():
    code, message = rejection("北京aא")
    assert code == "idna"
    assert "IDNA 2008" in message


def test_more_than_31_characters():
    assert validate_label("北" * 31, suffix=".政务").label == "北" * 31
    assert validate_label("北" + "a" * 30, suffix=".政务").label == "北" + "a" * 30
    code, message = rejection("北" * 32)
    assert code == "too_long"
    assert "31" in message and "32" in message


def longest_prefixes_around_the_alabel_limit():
    text = "政务公益北京市海淀区中国人民政府" * 2
    prefixes = {punycode_length(text[:n]): text[:n] for n in range(1, len(text) + 1)}
    return prefixes[63], prefixes[64]


def test_alabel_of_63_octets_passes():
    fits, _ = longest_prefixes_around_the_alabel_limit()
    check = validate_label(fits, suffix=".政务")
    assert len(check.alabel) == 63
    assert check.alabel == idna.encode(fits).decode()


def test_alabel_of_64_octets_is_refused_with_its_length():
    _, too_long = longest_prefixes_around_the_alabel_limit()
    assert len(too_long) <= 31  # it is the octets, not the character count, that fail
    code, message = rejection(too_long)
    assert code == "alabel_too_long"
    assert "64" in message and "63" in message


# --- variants -------------------------------------------------------------------------


def test_traditional_variant_of_simplified_name():
    assert "政務" in variants_of("政务")


def test_simplified_variant_of_traditional_name():
    assert "政务" in variants_of("政務")


def test_variants_exclude_the_name_itself():
    assert "政务" not in variants_of("政务")
    assert variants_of("beijing") == set()


def test_one_to_many_characters_yield_every_form():
    variants = variants_of("发展")
    assert {"發展", "髮展"} <= variants


def test_traditional_forms_sharing_a_simplified_form_are_variants_of_each_other():
    # 乾 and 幹 both simplify to 干, so 乾部 must collide with a live 幹部.
    assert "幹部" in variants_of("乾部")
    assert "干部" in variants_of("乾部")


def test_variants_are_capped_for_long_names():
    variants = variants_of("发台后干" * 4)
    assert 0 < len(variants) <= 64


def test_validate_label_reports_variants():
    check = validate_label("政务公开", suffix=".政务")
    assert "政務公開" in check.variants
    assert check.label not in check.variants
