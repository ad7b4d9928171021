"""`{% load money %}` … `{{ amount|money }}`: every amount on a page as the kernel formats it
(core.money.format_money: two decimals, thousands separated), whatever type the query returned
(Decimal from a column, int or float from an aggregate on SQLite, None for an empty sum)."""

from __future__ import annotations

from typing import Any

from django import template

from core.money import format_money

register = template.Library()


@register.filter(name="money")
def money(value: Any) -> str:
    """'1,234.50'; an empty sum (None) is '0.00'. Text that is not a number is left as it was."""
    try:
        return format_money(value)
    except (ArithmeticError, ValueError, TypeError):
        return "" if value is None else str(value)
