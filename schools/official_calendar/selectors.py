"""Reads of the official calendar: the years and their days (global rows, no tenant scope)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet

from ..models import CalendarDayKind, OfficialCalendarDay, OfficialCalendarYear
from .files import template_file, write_calendar_file
from .library import library_file

#: From this day of the year on, next year's schedule is due (the State Council publishes it in November
#: or December) and its absence is announced.
DUE_FROM = (11, 1)


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


def years_due_and_missing(*, today: dt.date) -> list[int]:
    """The years whose official calendar is needed by now and not loaded: this year always, next year
    from 1 November."""
    due = [today.year]
    if (today.month, today.day) >= DUE_FROM:
        due.append(today.year + 1)
    loaded = set(OfficialCalendarYear.objects.filter(year__in=due, is_loaded=True).values_list("year", flat=True))
    return [year for year in due if year not in loaded]


def official_calendar_years() -> QuerySet[OfficialCalendarYear]:
    """Every year with a row (loaded, or found missing by the daily check), newest first."""
    return OfficialCalendarYear.objects.select_related("loaded_by").order_by("-year", "pk")


def official_calendar_year(*, year: int) -> OfficialCalendarYear | None:
    return OfficialCalendarYear.objects.select_related("loaded_by").filter(year=year).first()


def official_calendar_days(*, year: int) -> QuerySet[OfficialCalendarDay]:
    """The special days of a year, by date."""
    return OfficialCalendarDay.objects.filter(calendar_year__year=year).order_by("date", "pk")


def official_calendar_file(*, year: int) -> bytes:
    """The file to download for a year: its days as loaded (to correct them), else the package's, else
    an empty template."""
    if OfficialCalendarYear.objects.filter(year=year, is_loaded=True).exists():
        return write_calendar_file(official_calendar_days(year=year).values_list("date", "kind", "name"))
    return library_file(year) or template_file(year)
