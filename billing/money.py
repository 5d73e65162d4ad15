"""Money is Decimal yuan with 2 places, rounded one way, everywhere."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def yuan(value):
    """Round to fen (0.01 元), half up, as a Decimal; never a float."""
    if isinstance(value, float):
        raise TypeError("money is never a float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value):
    return f"{yuan(value):,.2f}"
