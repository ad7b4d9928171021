"""今天: the date the product decides by, read in one place.

`today()` is the local date (Asia/Shanghai), unless code runs inside `frozen_at(day)`. Services whose
outcome depends on the date (publishing a list counts its working days from today; the banner about
next year's official calendar appears from 1 November) ask here instead of `timezone.localdate()`, so
a test can set the date for a whole request through the test client without patching Django or the
database. Nothing in the product enters `frozen_at`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

_today: ContextVar[dt.date | None] = ContextVar("clock_today", default=None)


def today() -> dt.date:
    return _today.get() or timezone.localdate()


@contextmanager
def frozen_at(day: dt.date) -> Iterator[None]:
    """Let `today()` answer `day` for the code inside (tests)."""
    token = _today.set(day)
    try:
        yield
    finally:
        _today.reset(token)


def school_year_of(day: dt.date) -> int:
    """学年: the school year starts in September, so a date before that belongs to last year's."""
    return day.year if day.month >= 9 else day.year - 1


def current_school_year() -> int:
    return school_year_of(today())


def school_year_label(year: int) -> str:
    """How people write a school year: "2026—2027学年" (not "2026", which reads as a calendar year)."""
    from django.utils.translation import gettext

    return gettext("%(start)d–%(end)d school year") % {"start": year, "end": year + 1}


def school_year_choices(*, back: int = 3) -> list[tuple[int, str]]:
    """This school year and the `back` before it, newest first: a district adopting the product mid-year
    (or migrating records) works on an earlier year explicitly, never by moving the clock."""
    current = current_school_year()
    return [(y, school_year_label(y)) for y in range(current, current - back - 1, -1)]
