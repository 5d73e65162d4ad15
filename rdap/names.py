"""Reading the names people type into an RDAP query or the 域名信息查询 page.

A name may come as Unicode (``某某市政府.政务``), as A-labels (``xn--….xn--zfr164b``), in
any case, with full-width dots, and with or without the trailing dot of a fully qualified
name. It is read with IDNA 2008 (the ``idna`` package, UTS 46 mapping) into the one form
the registry stores: the Unicode label and its suffix. No database is involved here.
"""

from dataclasses import dataclass

import idna
from idna.core import uts46_remap
from idna.idnadata import codepoint_classes
from idna.intranges import intranges_contain

from registry.domains.names import SUFFIXES


class Malformed(ValueError):
    """Not a domain name at all (RDAP 400); the message is for people."""


class NotOurs(ValueError):
    """A name, but not one this registry can hold (another TLD, a third level, a TLD alone): RDAP 404."""


@dataclass(frozen=True)
class Name:
    label: str  # Unicode, as stored (Domain.label)
    alabel: str
    suffix: str  # ".政务"
    suffix_alabel: str  # "xn--zfr164b"

    @property
    def unicode_name(self):
        return self.label + self.suffix

    @property
    def ldh_name(self):
        return f"{self.alabel}.{self.suffix_alabel}"


def is_label_char(char):
    """A character IDNA 2008 allows in a label as it stands (PVALID)."""
    return intranges_contain(ord(char), codepoint_classes["PVALID"])


def _zones():
    """Zone A-label and Unicode name → suffix."""
    zones = {}
    for suffix, zone in SUFFIXES.items():
        zones[zone] = suffix
        zones[suffix[1:]] = suffix
    return zones


def suffix_of(tld):
    """The configured suffix a TLD label (Unicode or A-label, already mapped) stands for, or None."""
    return _zones().get(tld)


def _describe_bad(text):
    bad = []
    for char in dict.fromkeys(text):
        try:
            uts46_remap(char, std3_rules=True, transitional=False)
        except (idna.IDNAError, UnicodeError):
            bad.append("空格" if char.isspace() else f"“{char}”" if char.isprintable() else f"U+{ord(char):04X}")
    return "、".join(bad) or "不能用于域名的字符"


def remap(raw):
    """UTS 46 mapping (case, full-width forms, 。 as a dot); a single trailing dot dropped."""
    text = (raw or "").strip()
    if not text:
        raise Malformed("请填写域名")
    if len(text) > 300:  # a domain name is at most 253 octets; nothing longer is worth mapping
        raise Malformed("域名太长")
    try:
        text = uts46_remap(text, std3_rules=True, transitional=False)
    except (idna.IDNAError, UnicodeError):
        raise Malformed(f"域名不能包含{_describe_bad(text)}；只能使用汉字、英文字母、数字和连字符“-”") from None
    if text.endswith("."):
        text = text[:-1]
    if not text or ".." in text or text.startswith("."):
        raise Malformed("域名格式不正确")
    return text


def to_ulabel(label):
    """One label, Unicode or A-label, checked with IDNA 2008; returns (U-label, A-label)."""
    if len(label) > 63 and label.isascii():
        raise Malformed("域名的一级标签不能超过63个字节")
    try:
        if label.startswith("xn--"):
            ulabel = idna.decode(label)
            if idna.encode(ulabel).decode("ascii") != label:
                raise Malformed(f"“{label}”不是规范的国际化域名编码（A-label）")
        else:
            ulabel = label
        alabel = idna.encode(ulabel).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise Malformed(f"“{label}”不是有效的域名（IDNA 2008）") from None
    return ulabel, alabel


def parse(raw):
    """``raw`` → :class:`Name`; raises :class:`Malformed` or :class:`NotOurs`."""
    labels = remap(raw).split(".")
    for label in labels:
        to_ulabel(label)  # every label must be a valid label, whichever TLD it is under
    suffix = suffix_of(labels[-1]) if len(labels) >= 1 else None
    if suffix is None:
        raise NotOurs(f"“{raw.strip()}”不在 .政务 或 .公益 之下")
    if len(labels) != 2:
        raise NotOurs("本注册系统只登记二级域名（如 某某.政务）")
    ulabel, alabel = to_ulabel(labels[0])
    return Name(label=ulabel, alabel=alabel, suffix=suffix, suffix_alabel=SUFFIXES[suffix])
