"""Reads of the official calendar: the years and their days (global rows, no tenant scope)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from ..models import CalendarDayKind, OfficialCalendarYear


def national_special_days(years: Iterable[int]) -> dict[int, dict[dt.date, bool]]:
    """For each loaded year of `years`: its special days (date → is a working day), all years in one
    query. A year that is not loaded is absent from the answer (a loaded year with no special day, which
    no real year is, maps to an empty dict)."""
    wanted = sorted(set(years))
    found: dict[int, dict[dt.date, bool]] = defaultdict(dict)
    rows = (
        OfficialCalendarYear.objects.filter(year__in=wanted, is_loaded=True)
        .values_list("year", "days__date", "days__kind")
        .order_by("year", "days__date")
    )
    for year, date, kind in rows:
        special = found[year]  # a loaded year appears even without days (the LEFT JOIN's one NULL row)
        if date is not None:
            special[date] = kind == CalendarDayKind.WORKDAY
    return dict(found)
