"""Working days on the Chinese official calendar, with the district's own additions.

The national calendar (holidays, and the weekend days worked instead, 调休) is the one the platform
operator loaded for each year (`OfficialCalendarYear`), read from the database a year at a time. A
district's own rest or make-up days are `CalendarDay` rows and win over it. A year nobody loaded is
never guessed: counting into it raises CalendarYearNotLoaded, which pages show as a message and the API
answers with a 400, and nothing is changed.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import CalendarDay
from .official_calendar.selectors import national_special_days

MSG_YEAR_NOT_LOADED = _(
    "The official holidays of %(year)s have not been loaded yet: please contact the platform administrator."
)


class CalendarYearNotLoaded(ValidationError):
    """A working-day count needs a year whose official calendar is not loaded."""

    def __init__(self, year: int) -> None:
        super().__init__(MSG_YEAR_NOT_LOADED, code="calendar_year_not_loaded", params={"year": year})
        self.year = year


class _NationalCalendar:
    """The loaded years' special days, each year read once, in one query with the others asked for."""

    def __init__(self) -> None:
        self._years: dict[int, dict[dt.date, bool] | None] = {}

    def load(self, years: range) -> None:
        wanted = [year for year in years if year not in self._years]
        if wanted:
            found = national_special_days(wanted)
            self._years.update({year: found.get(year) for year in wanted})

    def is_workday(self, day: dt.date) -> bool:
        self.load(range(day.year, day.year + 1))
        special = self._years[day.year]
        if special is None:
            raise CalendarYearNotLoaded(day.year)
        return special.get(day, day.weekday() < 5)


def add_working_days(start: dt.date, count: int) -> dt.date:
    """The date of the `count`-th working day from `start` (counted if it is itself a working day),
    for the current tenant. Raises CalendarYearNotLoaded if the count reaches a year not loaded."""
    if count < 1:
        raise ValueError("count must be at least 1")
    horizon = start + dt.timedelta(days=count * 3 + 30)  # far enough past any holiday
    national = _NationalCalendar()
    national.load(range(start.year, horizon.year + 1))
    local = dict(CalendarDay.objects.filter(date__range=(start, horizon)).values_list("date", "is_workday"))
    day, seen = start, 0
    while True:
        if local[day] if day in local else national.is_workday(day):
            seen += 1
            if seen == count:
                return day
        day += dt.timedelta(days=1)
        if day > horizon:
            horizon += dt.timedelta(days=60)
            local.update(CalendarDay.objects.filter(date__range=(day, horizon)).values_list("date", "is_workday"))


def is_working_day(day: dt.date) -> bool:
    """Whether `day` is a working day for the current tenant. Raises CalendarYearNotLoaded if the
    district has no day of its own there and the year is not loaded."""
    local = CalendarDay.objects.filter(date=day).values_list("is_workday", flat=True).first()
    return _NationalCalendar().is_workday(day) if local is None else local


def working_days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """The current tenant's working days from `start` to `end` (both included), in order: two queries
    whatever the span (the district's own days, the national years). Raises CalendarYearNotLoaded if the
    span reaches a year not loaded where the district has no day of its own."""
    if end < start:
        return []
    national = _NationalCalendar()
    national.load(range(start.year, end.year + 1))
    local = dict(CalendarDay.objects.filter(date__range=(start, end)).values_list("date", "is_workday"))
    days, day = [], start
    while day <= end:
        if local[day] if day in local else national.is_workday(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days
