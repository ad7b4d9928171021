"""Writes of the weekly return: the school submits its week (once), the scheduled task reminds the
schools that are late. Both audited through the ORM hooks under their own labels."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from core import clock
from core.audit import trail
from schools import permissions
from schools.models import School
from schools.permissions import Action
from schools.workdays import CalendarYearNotLoaded

from ..models import WeeklyReturn, WeeklyReturnStatus
from ..services import CareError
from .deadline import Week, week_of, week_start_of
from .selectors import case_counts, filing_schools

MSG_NOT_YOUR_SCHOOL = _("You can submit the weekly return only for your own school.")
MSG_NOT_FILING = _("This school does not file weekly returns (no primary or junior grade, or not active).")
MSG_WEEK_FUTURE = _("The week of %(week)s has not begun: its return cannot be submitted yet.")
MSG_NO_SCHOOL_DAY = _("The week of %(week)s has no working day on the district's calendar: no return is due.")
MSG_ALREADY = _(
    "The return of the week of %(week)s was already submitted by %(who)s at %(at)s: it was not submitted twice."
)
MSG_AT_ONCE = _("The return of the week of %(week)s was being submitted at the same moment: it was submitted once.")
MSG_COUNTS_CHANGED = _(
    "The cases changed while you were reviewing them (now %(dropouts)d dropouts, %(suspected)d suspected "
    "dropouts): check the counts again and submit."
)


def weekly_return_submit(
    *,
    actor: Any,
    school: School,
    day: dt.date,
    notes: str = "",
    expected: tuple[int, int] | None = None,
) -> WeeklyReturn:
    """每周按时填报: file the school's return of the week holding `day`, with the counts of its cases
    (dropouts, suspected dropouts; zero is a return). Once per school and week: a second submit (a double
    click, two devices) is refused with a message and files nothing. Lateness is decided now, from the
    district's deadline rule and working-day calendar. `expected`: the counts the officer reviewed; if
    the cases moved meanwhile, nothing is filed and the officer is asked to look again."""
    week_start = week_start_of(day)
    label = {"week": week_start.isoformat()}
    if not permissions.can(actor, Action.WEEKLY_RETURN_SUBMIT, school):
        raise CareError(MSG_NOT_YOUR_SCHOOL)
    if not filing_schools(School.objects.filter(pk=school.pk)).exists():
        raise CareError(MSG_NOT_FILING)
    today = clock.today()
    if week_start > today:
        raise CareError(MSG_WEEK_FUTURE % label)
    week = week_of(week_start)
    if week.due_on is None:
        raise CareError(MSG_NO_SCHOOL_DAY % label)
    try:
        with transaction.atomic():
            return _submit(actor=actor, school=school, week=week, today=today, notes=notes, expected=expected)
    except IntegrityError:
        # Two submits at once: the unique (school, week) key let the first through.
        raise CareError(MSG_AT_ONCE % label) from None


def _submit(
    *, actor: Any, school: School, week: Week, today: dt.date, notes: str, expected: tuple[int, int] | None
) -> WeeklyReturn:
    label = {"week": week.start.isoformat()}
    row = WeeklyReturn.objects.select_for_update().filter(school=school, week_start=week.start).first()
    if row is not None and row.status == WeeklyReturnStatus.SUBMITTED:
        who = (row.submitted_by.get_full_name() or row.submitted_by.username) if row.submitted_by else "—"
        at = date_format(timezone.localtime(row.submitted_at), "Y-m-d H:i") if row.submitted_at else "—"
        raise CareError(MSG_ALREADY % {**label, "who": who, "at": at})
    dropouts, suspected = case_counts(school_ids=[school.pk], as_of=min(week.end, today)).get(school.pk, (0, 0))
    if expected is not None and tuple(expected) != (dropouts, suspected):
        raise CareError(MSG_COUNTS_CHANGED % {"dropouts": dropouts, "suspected": suspected})
    now = timezone.now()
    adding = row is None
    if row is None:
        row = WeeklyReturn(school=school, week_start=week.start)
    row.due_on = week.due_on
    row.dropouts, row.suspected = dropouts, suspected
    row.notes = notes.strip()[:300]
    row.is_late = week.is_late_at(today=today, time=timezone.localtime(now).time())
    row.submitted_by, row.submitted_at = actor, now
    row.submit()
    with trail.labelled("care.weekly_return_submit", str(_("late")) if row.is_late else ""):
        if adding:
            row.save()
        else:
            row.save(
                update_fields=[
                    "status", "due_on", "dropouts", "suspected", "notes", "is_late", "submitted_by",
                    "submitted_at", "updated_at",
                ]
            )  # fmt: skip
    return row


def weekly_returns_remind(*, actor: Any, today: dt.date | None = None) -> int:
    """For the last two weeks whose deadline has passed, leave a reminder (a DUE return, seen on the
    school's and the district's home page and in the audit trail) for each school that files returns
    and has neither submitted nor been reminded. Idempotent; two statements per week. Returns how many
    schools were reminded. Called by the scheduled task only, acting as the tenant's system account."""
    today = today or clock.today()
    time = timezone.localtime().time()
    now = timezone.now()
    reminded = 0
    this_monday = week_start_of(today)
    for start in (this_monday - dt.timedelta(days=7), this_monday):
        try:
            week = week_of(start)
        except CalendarYearNotLoaded:
            continue  # the calendar check warns about the missing year; no deadline can be known
        if week.due_on is None or not week.is_late_at(today=today, time=time):
            continue
        filed = WeeklyReturn.objects.filter(school_id=OuterRef("pk"), week_start=week.start)
        late = filing_schools(School.objects.all()).exclude(Exists(filed)).order_by("pk")
        rows = [
            WeeklyReturn(school_id=pk, week_start=week.start, due_on=week.due_on, reminded_at=now)
            for pk in late.values_list("pk", flat=True)
        ]
        with trail.labelled("care.weekly_return_remind"):
            WeeklyReturn.objects.bulk_create(rows)
        reminded += len(rows)
    return reminded
