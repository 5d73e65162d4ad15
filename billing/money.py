"""Money is Decimal yuan with 2 places, rounded one way, everywhere."""

from decimal import ROUND_HALF_UP, Decimal

from conac import formats

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def yuan(value):
    """Round to fen (0.01 元), half up, as a Decimal; never a float."""
    if isinstance(value, float):
        raise TypeError("money is never a float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value):
    """The figure alone, ``1,200.00``, for a column or cell that already says 元."""
    return formats.amount_text(yuan(value))


def yuan_text(value):
    """``1,200.00 元``: money in every message, notice and PDF (the ``yuan`` template filter's twin)."""
    return formats.yuan_text(yuan(value))
