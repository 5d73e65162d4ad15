"""Pure rules for registrable domain names (IDNA 2008), without the database.

A name is one label under a configured suffix (``.政务`` or ``.公益``). The
database-backed checks (a live duplicate, the reserved-names list) build on
``validate_label`` and ``variants_of`` elsewhere.

A user who types an A-label (``xn--…``) is accepted: it is decoded and checked
exactly like the Chinese name it stands for, and the Unicode form is what gets
stored. Reviewers see both forms, so nothing is hidden by accepting it, and
users who copy a name from a DNS tool are not turned away.
"""

import itertools
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import idna
from django.conf import settings
from django.core.exceptions import ValidationError
from idna.core import uts46_remap
from idna.idnadata import codepoint_classes
from idna.intranges import intranges_contain

DEFAULT_SUFFIXES = (".政务", ".公益")
MAX_LABEL_CHARS = 31  # the registry's own cap on the Chinese name
MAX_ALABEL_OCTETS = 63  # RFC 1035 label limit, applied to the xn-- form
MAX_VARIANTS = 64  # a long name must not explode into thousands of lookups

ORGAN_SUFFIX = ".政务"
PUBLIC_WELFARE_SUFFIX = ".公益"


def _suffix_alabel(suffix):
    return idna.encode(suffix.lstrip("."), uts46=True, std3_rules=True).decode("ascii")


@cache
def _build_suffixes(names):
    suffixes = {}
    for name in names:
        unicode_name = "." + uts46_remap(name, std3_rules=True, transitional=False).lstrip(".")
        suffixes[unicode_name] = _suffix_alabel(unicode_name)
    return suffixes


def configured_suffixes():
    """Return the suffixes in force, ``{".政务": "xn--zfr164b", ...}``.

    ``settings.DOMAIN_SUFFIXES`` may be a list of suffixes or a dict keyed by
    suffix; the A-labels are always computed, so a typo in settings cannot
    publish a wrong zone name.
    """
    names = getattr(settings, "DOMAIN_SUFFIXES", None) or DEFAULT_SUFFIXES
    return dict(_build_suffixes(tuple(names)))


SUFFIXES = configured_suffixes()


def suffix_for_kind(kind):
    """Return the suffix a unit of this ``UnitKind`` may register: ``.政务`` for organs, ``.公益`` otherwise."""
    # Imported here: registry.models imports this module for its own validation.
    from registry.models import UnitKind

    if kind == UnitKind.ORGAN:
        return ORGAN_SUFFIX
    if kind in (UnitKind.INSTITUTION, UnitKind.SOCIAL_ORG):
        return PUBLIC_WELFARE_SUFFIX
    raise ValueError(f"unknown unit kind: {kind!r}")


def check_suffix_for_kind(suffix, kind):
    """Raise ``ValidationError`` unless a unit of ``kind`` may register under ``suffix``."""
    from registry.models import UnitKind

    if _normalize_suffix(suffix) == suffix_for_kind(kind):
        return
    if kind == UnitKind.ORGAN:
        raise ValidationError("党政机关只能注册.政务域名", code="suffix_kind")
    raise ValidationError("事业单位和社会组织只能注册.公益域名", code="suffix_kind")


@dataclass(frozen=True)
class NameCheck:
    """A name that passed every pure rule, in both its Unicode and A-label forms."""

    label: str
    alabel: str
    suffix: str
    suffix_alabel: str
    variants: frozenset = field(default_factory=frozenset)

    @property
    def full(self):
        return self.label + self.suffix

    @property
    def full_alabel(self):
        return f"{self.alabel}.{self.suffix_alabel}"


def _describe(chars):
    shown = []
    for char in dict.fromkeys(chars):
        category = unicodedata.category(char)
        if category == "Zs":
            shown.append("空格")
        elif category[0] in "CM":
            shown.append(f"U+{ord(char):04X}")
        else:
            shown.append(f"“{char}”")
    return "、".join(shown)


# The CDNC/CNNIC practice for Chinese-script IDNs (the language tables of
# RFC 3743/4713 used by .中国/.中國 and followed by .政务/.公益): a label must hold
# at least one Chinese character; letters, digits and hyphens may accompany them.
# "Chinese character" here is the CJK Unified Ideographs block and its
# extensions A–I. 〇 (U+3007, in CJK Symbols and Punctuation, category Nl) is
# allowed like a digit but does not count on its own: "〇-1" is no Chinese name.
CHINESE_CHARACTER_RANGES = (
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0x3400, 0x4DBF),  # Extension A
    (0x20000, 0x2A6DF),  # Extension B
    (0x2A700, 0x2B73F),  # Extension C
    (0x2B740, 0x2B81F),  # Extension D
    (0x2B820, 0x2CEAF),  # Extension E
    (0x2CEB0, 0x2EBEF),  # Extension F
    (0x2EBF0, 0x2EE5F),  # Extension I
    (0x30000, 0x3134F),  # Extension G
    (0x31350, 0x323AF),  # Extension H
)
NO_CHINESE_MESSAGE = "域名须包含至少一个汉字，可搭配字母、数字和连字符。"


def is_chinese_character(char):
    code = ord(char)
    return any(low <= code <= high for low, high in CHINESE_CHARACTER_RANGES)


def _bad_characters(chars):
    return ValidationError(
        f"域名不能包含{_describe(chars)}；只能使用汉字、英文字母、数字和连字符“-”",
        code="characters",
    )


def _remap(text):
    """UTS 46 mapping: folds upper-case and full-width forms, turns 。 into a dot."""
    try:
        return uts46_remap(text, std3_rules=True, transitional=False)
    except idna.IDNAError:
        # Name every offending character at once, not only the first UTS 46 refuses.
        raise _bad_characters([char for char in text if not _remaps_to_valid(char)] or text) from None


def _remaps_to_valid(char):
    try:
        mapped = uts46_remap(char, std3_rules=True, transitional=False)
    except idna.IDNAError:
        return False
    return all(c in ".-" or _is_pvalid(c) for c in mapped)


def _normalize_suffix(suffix):
    text = _remap((suffix or "").strip()).lstrip(".")
    if not text:
        raise ValidationError("请选择域名后缀", code="suffix")
    return "." + text


def _split_typed_suffix(raw):
    """Normalise ``raw`` and strip a known suffix typed into it; return ``(label, typed_suffix or None)``."""
    text = _remap((raw or "").strip())
    head, dot, tail = text.rpartition(".")
    if dot and tail:
        for suffix, suffix_alabel in configured_suffixes().items():
            if tail in (suffix[1:], suffix_alabel):
                return head, suffix
    return text, None


def normalize_label(raw):
    """Return the label as it will be checked and stored.

    Strips blanks, applies UTS 46 mapping (upper-case and full-width Latin and
    digits folded, ``。`` read as a dot) and drops a configured suffix the user
    typed after the name (``北京市。政务`` → ``北京市``). Raises
    ``ValidationError`` for characters UTS 46 forbids outright.
    """
    return _split_typed_suffix(raw)[0]


def _is_pvalid(char):
    # CONTEXTJ/CONTEXTO characters (zero-width joiners, the middle dot ·) are
    # refused too: no Chinese name needs them and they are easy to misread.
    return intranges_contain(ord(char), codepoint_classes["PVALID"])


def _punycode_alabel(label):
    if label.isascii():
        return label
    return "xn--" + label.encode("punycode").decode("ascii")


def _decode_alabel(label):
    try:
        decoded = idna.decode(label)
    except (idna.IDNAError, UnicodeError):
        decoded = None
    # A non-canonical A-label would let two spellings name one domain.
    if decoded is None or _punycode_alabel(decoded) != label:
        raise ValidationError(
            f"“{label}”不是有效的国际化域名编码（A-label），请直接填写中文域名",
            code="alabel",
        )
    return decoded


def validate_label(raw, *, suffix):
    """Check one name typed by a unit under ``suffix`` and return its ``NameCheck``.

    Raises ``ValidationError`` (Chinese message, a ``code`` per rule) for: an
    unknown suffix or one that differs from the suffix typed into the name; an
    empty name; a dot (only one level can be registered); spaces, ``_``,
    ``、``, punctuation, symbols or emoji; a leading or trailing hyphen;
    ``--`` in positions 3–4; no Chinese character at all (``abc``); more
    than 31 characters; an A-label longer than
    63 octets; anything else IDNA 2008 refuses.
    """
    suffixes = configured_suffixes()
    chosen_suffix = _normalize_suffix(suffix)
    if chosen_suffix not in suffixes:
        raise ValidationError(
            f"不支持的域名后缀“{chosen_suffix}”，可选：{'、'.join(suffixes)}",
            code="suffix",
        )

    label, typed_suffix = _split_typed_suffix(raw)
    if typed_suffix and typed_suffix != chosen_suffix:
        raise ValidationError(
            f"域名中填写的后缀“{typed_suffix}”与所选域名后缀“{chosen_suffix}”不一致",
            code="suffix_mismatch",
        )
    if not label:
        raise ValidationError("请填写域名", code="empty")
    if "." in label:
        raise ValidationError("只能注册一级域名，域名中不能含有“.”或“。”", code="dot")
    if label.startswith("xn--"):
        label = _decode_alabel(label)

    bad = [char for char in label if char != "-" and not _is_pvalid(char)]
    if bad:
        raise _bad_characters(bad)
    if label.startswith("-") or label.endswith("-"):
        raise ValidationError("域名不能以连字符“-”开头或结尾", code="hyphen")
    if label[2:4] == "--":
        raise ValidationError("域名的第3、4位不能同时为连字符“--”", code="hyphen34")
    if not any(is_chinese_character(char) for char in label):
        raise ValidationError(NO_CHINESE_MESSAGE, code="no_chinese")
    if len(label) > MAX_LABEL_CHARS:
        raise ValidationError(
            f"域名不能超过{MAX_LABEL_CHARS}个字符，当前为{len(label)}个字符",
            code="too_long",
        )
    alabel = _punycode_alabel(label)
    if len(alabel) > MAX_ALABEL_OCTETS:
        raise ValidationError(
            f"域名编码后（{alabel}）为{len(alabel)}个字节，不能超过{MAX_ALABEL_OCTETS}个字节，请缩短域名",
            code="alabel_too_long",
        )
    try:
        idna.encode(label)
    except (idna.IDNAError, UnicodeError):
        raise ValidationError("域名不符合国际化域名（IDNA 2008）规则，请检查字符的组合", code="idna") from None

    return NameCheck(
        label=label,
        alabel=alabel,
        suffix=chosen_suffix,
        suffix_alabel=suffixes[chosen_suffix],
        variants=frozenset(variants_of(label)),
    )


def _load_character_table(path):
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        if key and values:
            table[key] = values.split()
    return table


@cache
def _character_tables():
    import opencc

    dictionaries = Path(opencc.__file__).parent / "dictionary"
    return (
        _load_character_table(dictionaries / "STCharacters.txt"),
        _load_character_table(dictionaries / "TSCharacters.txt"),
    )


@cache
def _converters():
    from opencc import OpenCC

    return OpenCC("s2t"), OpenCC("t2s")


@cache
def _alternatives(char):
    """The character itself, its traditional and simplified forms, and the other traditional forms of the latter."""
    simplified_to_traditional, traditional_to_simplified = _character_tables()
    forms = [char, *simplified_to_traditional.get(char, ())]
    for simplified in traditional_to_simplified.get(char, ()):
        forms += [simplified, *simplified_to_traditional.get(simplified, ())]
    return tuple(dict.fromkeys(forms))


def variants_of(label):
    """Return the simplified/traditional spellings of ``label``, without ``label`` itself.

    Uses opencc's phrase-aware ``s2t``/``t2s`` conversions, then every
    combination of the one-to-many character table (发 → 發, 髮), capped at
    ``MAX_VARIANTS`` names so a long name stays cheap to look up. Computed once
    per label and process (the review queues show the same labels again and again).
    """
    return set(_variants(label))


@lru_cache(maxsize=20_000)
def _variants(label):
    to_traditional, to_simplified = _converters()
    found = dict.fromkeys([to_traditional.convert(label), to_simplified.convert(label)])
    found.pop(label, None)
    for combination in itertools.product(*(_alternatives(char) for char in label)):
        if len(found) >= MAX_VARIANTS:
            break
        candidate = "".join(combination)
        if candidate != label:
            found[candidate] = None
    return frozenset(found)
