"""Working days on the Chinese official calendar, with the district's own additions.

The national calendar (holidays and the weekend days swapped into working days, 调休) comes from the
maintained `chinesecalendar` package; a district's own rest or make-up days are `CalendarDay` rows and
win over it. For a year the package does not know yet, weekdays are working days.
"""

from __future__ import annotations

import datetime as dt
import logging

import chinese_calendar

from .models import CalendarDay

logger = logging.getLogger(__name__)


def _national_workday(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        logger.warning("the national calendar of %s is not known yet: counting weekdays", day.year)
        return day.weekday() < 5


def add_working_days(start: dt.date, count: int) -> dt.date:
    """The date of the `count`-th working day from `start` (counted if it is itself a working day),
    for the current tenant."""
    if count < 1:
        raise ValueError("count must be at least 1")
    horizon = start + dt.timedelta(days=count * 3 + 30)  # far enough past any holiday
    local = dict(CalendarDay.objects.filter(date__range=(start, horizon)).values_list("date", "is_workday"))
    day, seen = start, 0
    while True:
        if local[day] if day in local else _national_workday(day):
            seen += 1
            if seen == count:
                return day
        day += dt.timedelta(days=1)
        if day > horizon:
            horizon += dt.timedelta(days=60)
            local.update(CalendarDay.objects.filter(date__range=(day, horizon)).values_list("date", "is_workday"))


def is_working_day(day: dt.date) -> bool:
    local = CalendarDay.objects.filter(date=day).values_list("is_workday", flat=True).first()
    return _national_workday(day) if local is None else local
