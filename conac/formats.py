"""How the whole system writes and reads money and dates: one place, so every page,
message, PDF and notice shows the same "1,200.00 元" and "2026-12-31".

Pure functions on plain values (conac core imports no app); ``billing.money`` and
the template filters in ``conac.templatetags.formats`` build on them.
"""

import datetime
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M"

DATE_EXAMPLE = "2026-12-31"
DATE_INVALID_MESSAGE = "请输入有效的日期，例如 2026-12-31 或 2026年12月31日。"

# 2026-12-31, 2026/12/31, 2026.12.31, 2026-1-5 and 2026年12月31日 (日 optional), 20261231.
# Full-width digits typed with a Chinese input method are folded first (NFKC).
_DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
)


def amount_text(value):
    """``Decimal("1200")`` → ``"1,200.00"``: fen rounded half up, thousands grouped; never via float."""
    if isinstance(value, float):
        value = str(value)  # a float reaching display is shown as typed, not as its binary expansion
    return f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def yuan_text(value):
    """``Decimal("1200")`` → ``"1,200.00 元"``, the one way money is written everywhere."""
    return f"{amount_text(value)} 元"


def date_text(value):
    """A date (or an aware datetime, in local time) as ``2026-12-31``."""
    if isinstance(value, datetime.datetime):
        value = _local(value).date()
    return value.strftime(DATE_FORMAT)


def datetime_text(value):
    """An aware datetime in local time as ``2026-12-31 14:05``."""
    return _local(value).strftime(DATETIME_FORMAT)


def _local(value):
    from django.utils import timezone

    return timezone.localtime(value) if timezone.is_aware(value) else value


def parse_date(text):
    """Read a date typed as ``2026-12-31`` or ``2026年12月31日`` (and the variants above).

    Returns a ``datetime.date``; raises ``ValueError`` with a Chinese message that
    can be shown at the field as it is.
    """
    typed = unicodedata.normalize("NFKC", str(text or "")).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(typed)
        if match:
            year, month, day = (int(match[k]) for k in ("y", "m", "d"))
            break
    else:
        raise ValueError(DATE_INVALID_MESSAGE)
    if not 1 <= month <= 12:
        raise ValueError(f"没有{month}月（月份应为1至12），请输入有效的日期。")
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ValueError(f"{year}年{month}月没有{day}日，请输入有效的日期。") from None


def is_amount(value):
    try:
        Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return False
    return True
