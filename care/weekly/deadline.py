"""When a week's return is due: the week's last working day on the district's calendar (holidays and
make-up working days included), plus `CareRules.weekly_due_days` working days, by `weekly_due_time`
(empty: the end of that day). A week without a working day (a holiday week) has no return due."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from schools.workdays import add_working_days, working_days_between

from ..selectors import rules_current


@dataclass(frozen=True)
class Week:
    start: dt.date  # Monday
    due_on: dt.date | None  # None: no working day that week, no return due
    due_time: dt.time | None  # None: the end of the day

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)

    def is_late_at(self, *, today: dt.date, time: dt.time) -> bool:
        """Whether a return filed at (today, time) comes after the deadline."""
        if self.due_on is None:
            return False
        if today != self.due_on:
            return today > self.due_on
        return self.due_time is not None and time > self.due_time


def week_start_of(day: dt.date) -> dt.date:
    """The Monday of the week holding `day`."""
    return day - dt.timedelta(days=day.weekday())


def week_of(day: dt.date) -> Week:
    """The week holding `day` and its deadline for the current tenant. Three queries (the rules, the
    district's days, the national years); raises CalendarYearNotLoaded for a year nobody loaded."""
    start = week_start_of(day)
    rules = rules_current()
    days = working_days_between(start, start + dt.timedelta(days=6))
    if not days:
        return Week(start=start, due_on=None, due_time=None)
    due = days[-1]
    if rules.weekly_due_days:
        due = add_working_days(due + dt.timedelta(days=1), rules.weekly_due_days)
    return Week(start=start, due_on=due, due_time=rules.weekly_due_time)
