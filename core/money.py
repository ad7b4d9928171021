"""Money: one type (Decimal yuan, two places), one rounding, one formatter.

Amounts are `Decimal` with two decimal places (fen), stored in `DecimalField(max_digits=12,
decimal_places=2)` columns. Every amount read from outside the ORM (raw SQL, a bank's return, a
spreadsheet) goes through `to_money`, so the product rounds in one way only: half up, as a bank and a
finance office do (¥0.005 is ¥0.01).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_money(value: Any) -> Decimal:
    """An amount as Decimal yuan to the fen. None is zero; a float is read by its shortest text
    (SQLite returns a stored number as one), never by its binary value."""
    if value is None:
        return ZERO
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value: Any) -> str:
    """'1,234.50': two decimals, thousands separated (for pages, letters and reports)."""
    return f"{to_money(value):,.2f}"
