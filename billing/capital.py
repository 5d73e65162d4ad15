"""Amounts in Chinese capital numerals (大写金额), as written on receipts and invoices.

Follows the 《支付结算办法》 conventions: 壹贰叁…, 拾佰仟 inside each group of four digits,
万 and 亿 between groups, one 零 for any run of zeros between non-zero digits, 整 when
there are no 分, and 零 between 元 and 分 when there are no 角 (壹拾元零伍分). A zero at 万位 before a
non-zero 仟位 may be written or left out; it is left out (壹拾万柒仟).
"""

from .money import yuan

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ["", "拾", "佰", "仟"]
GROUPS = ["", "万", "亿", "万亿"]


def capital_yuan(amount):
    """``Decimal("600")`` → ``"陆佰元整"``; ``Decimal("1005.30")`` → ``"壹仟零伍元叁角整"``."""
    amount = yuan(amount)
    if amount < 0:
        raise ValueError("金额不能为负数")
    fen_total = int(amount * 100)
    integer, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)
    if integer >= 10 ** (4 * len(GROUPS)):
        raise ValueError("金额过大")

    text = _integer_text(integer)
    if integer:
        text += "元"
    if jiao:
        text += DIGITS[jiao] + "角"
    if fen:
        if integer and not jiao:
            text += "零"
        text += DIGITS[fen] + "分"
    if not text:
        return "零元整"
    if not fen:
        text += "整"
    return text


def _integer_text(number):
    digits = str(number) if number else ""
    out = []
    pending_zero = False
    group_has_digit = False
    for index, char in enumerate(digits):
        position = len(digits) - 1 - index  # 0 = 个位
        place, group = position % 4, position // 4
        digit = int(char)
        if digit == 0:
            pending_zero = bool(out)
        else:
            if pending_zero:
                out.append("零")
                pending_zero = False
            out.append(DIGITS[digit] + PLACES[place])
            group_has_digit = True
        if place == 0:
            if group_has_digit and group:
                out.append(GROUPS[group])
                # A zero at 万位/亿位 before a non-zero 仟 is not written (壹拾万柒仟).
                pending_zero = False
            group_has_digit = False
    return "".join(out)
