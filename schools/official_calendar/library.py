"""The years the chinesecalendar package knows, written as the file a year is loaded from.

The package is where the seed comes from (a data migration) and where a new release's years come from
(`manage.py load_official_calendar --from-library`); working-day arithmetic never calls it at run time:
it reads the loaded years from the database, and a year nobody loaded is refused, not guessed.
"""

from __future__ import annotations

import datetime as dt
from importlib.metadata import version

from chinese_calendar import constants

from ..models import CalendarDayKind
from .files import write_calendar_file

SOURCE = f"chinesecalendar {version('chinesecalendar')}"


def _chinese(english: str) -> str:
    """The festival's Chinese name (the package keys its days by the English one)."""
    return constants.Holiday(english).chinese


def library_years() -> list[int]:
    """Every year the installed package has the State Council's schedule of."""
    return sorted({day.year for day in constants.holidays} | {day.year for day in constants.workdays})


def library_file(year: int) -> bytes | None:
    """The package's `year` as a calendar file, or None if the package does not know the year."""
    if year not in library_years():
        return None
    days: list[tuple[dt.date, str, str]] = [
        (day, CalendarDayKind.HOLIDAY, _chinese(name)) for day, name in constants.holidays.items() if day.year == year
    ]
    days += [
        (day, CalendarDayKind.WORKDAY, _chinese(name)) for day, name in constants.workdays.items() if day.year == year
    ]
    return write_calendar_file(days)
