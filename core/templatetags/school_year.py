"""`{{ year|school_year }}` → "2026—2027学年": a school year as people write it, not "2026"."""

from __future__ import annotations

from django import template

from core.clock import school_year_label

register = template.Library()


@register.filter
def school_year(value: object) -> str:
    try:
        return school_year_label(int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return ""
