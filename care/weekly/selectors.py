"""Reads of the weekly return, scoped to the person through the one scoping helper, ordered explicitly.

The counts of a return are read from the cases in one grouped statement for any number of schools: a
case counts in the state it had at the end of the day asked (its last status step up to that day; a
case with no step counts in its current state), so a return filed late still reports its own week.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from schools.models import Grade, School, Stage
from schools.permissions import Action

from ..models import CaseStatus, CaseStep, DropoutCase, StepKind, WeeklyReturn, WeeklyReturnStatus
from .deadline import Week

#: Dropout control concerns compulsory education: schools with a primary or junior grade file returns.
COMPULSORY = [Stage.PRIMARY, Stage.JUNIOR]
#: 辍学: confirmed and not back yet (persuasion under way included).
DROPOUT_STATES = [CaseStatus.CONFIRMED, CaseStatus.PERSUADING]


def status_at(day: dt.date) -> Coalesce:
    """A case's status at the end of `day`: the state its last status step up to that day reached;
    without one, the state its first later step left; without any step, its status."""
    steps = CaseStep.objects.filter(case_id=OuterRef("pk"), kind=StepKind.STATUS)
    last = (steps.filter(done_on__lte=day).exclude(to_status="").order_by("-done_on", "-created_at", "-pk")).values(
        "to_status"
    )[:1]
    later = (steps.filter(done_on__gt=day).exclude(from_status="").order_by("done_on", "created_at", "pk")).values(
        "from_status"
    )[:1]
    return Coalesce(Subquery(last), Subquery(later), F("status"), output_field=CharField())


def filing_schools(schools: QuerySet[School]) -> QuerySet[School]:
    """Of `schools`, the active ones with a primary or junior grade: those that file a weekly return."""
    return schools.filter(is_active=True).filter(
        Exists(Grade.objects.filter(school_id=OuterRef("pk"), stage__in=COMPULSORY))
    )


def schools_filing(*, user: Any, action: Action = Action.WEEKLY_RETURN_VIEW) -> QuerySet[School]:
    """The schools that file returns and that the user may see (or submit for, with that action)."""
    return filing_schools(School.objects.visible_to(user, action)).order_by("township", "name", "pk")


def case_counts(*, school_ids: Iterable[Any], as_of: dt.date) -> dict[Any, tuple[int, int]]:
    """school id → (dropouts, suspected dropouts) at the end of `as_of`: one grouped statement."""
    rows = (
        DropoutCase.objects.filter(school_id__in=list(school_ids), opened_on__lte=as_of)
        .alias(at=status_at(as_of))
        .values("school_id")
        .annotate(
            dropouts=Count("pk", filter=Q(at__in=DROPOUT_STATES)),
            suspected=Count("pk", filter=Q(at=CaseStatus.SUSPECTED)),
        )
        .order_by()
    )
    return {row["school_id"]: (row["dropouts"], row["suspected"]) for row in rows}


def cases_counted(*, user: Any, school: School, as_of: dt.date) -> QuerySet[DropoutCase]:
    """The cases behind a school's counts (what the officer reviews before submitting)."""
    return (
        DropoutCase.objects.visible_to(user)
        .filter(school=school, opened_on__lte=as_of)
        .annotate(at=status_at(as_of))
        .filter(at__in=[*DROPOUT_STATES, CaseStatus.SUSPECTED])
        .select_related("student", "grade", "klass__grade")
        .order_by("at", "opened_on", "pk")
    )


def return_list(*, user: Any, week_start: dt.date | None = None) -> QuerySet[WeeklyReturn]:
    qs = WeeklyReturn.objects.visible_to(user).select_related("school", "submitted_by")
    if week_start is not None:
        qs = qs.filter(week_start=week_start)
    return qs.order_by("-week_start", "school__township", "school__name", "pk")


def return_of(*, user: Any, school: School, week_start: dt.date) -> WeeklyReturn | None:
    return return_list(user=user, week_start=week_start).filter(school=school).first()


class Standing:
    """Where a school stands with a week's return."""

    ON_TIME = "on_time"
    LATE = "late"  # submitted after the deadline
    MISSING = "missing"  # not submitted, deadline passed
    PENDING = "pending"  # not submitted, not due yet


@dataclass(frozen=True)
class OverviewRow:
    school: School
    weekly: WeeklyReturn | None
    standing: str


@dataclass(frozen=True)
class Overview:
    week: Week
    rows: list[OverviewRow]

    def count(self, standing: str) -> int:
        return sum(1 for row in self.rows if row.standing == standing)

    @property
    def submitted(self) -> int:
        return self.count(Standing.ON_TIME) + self.count(Standing.LATE)

    @property
    def late(self) -> int:
        return self.count(Standing.LATE)

    @property
    def missing(self) -> int:
        return self.count(Standing.MISSING)

    @property
    def pending(self) -> int:
        return self.count(Standing.PENDING)


def week_overview(*, user: Any, week: Week, today: dt.date, time: dt.time) -> Overview:
    """For a week: every school the user sees that files returns, with its return and its standing
    (on time, late, missing past the deadline, not yet due). Two queries whatever the district's size."""
    schools = list(schools_filing(user=user))
    returns = {r.school_id: r for r in return_list(user=user, week_start=week.start)}
    overdue = week.is_late_at(today=today, time=time)
    rows = []
    for school in schools:
        weekly = returns.get(school.pk)
        if weekly is not None and weekly.status == WeeklyReturnStatus.SUBMITTED:
            standing = Standing.LATE if weekly.is_late else Standing.ON_TIME
        else:
            standing = Standing.MISSING if overdue else Standing.PENDING
        rows.append(OverviewRow(school=school, weekly=weekly, standing=standing))
    order = {Standing.MISSING: 0, Standing.LATE: 1, Standing.PENDING: 2, Standing.ON_TIME: 3}
    rows.sort(key=lambda r: order[r.standing])  # stable: township and name inside each standing
    return Overview(week=week, rows=rows)


def school_for_submit(*, user: Any, text: str) -> School | None:
    """A school the user files returns for, by its id (None for another school, another tenant's or a
    missing one alike)."""
    try:
        return School.objects.visible_to(user, Action.WEEKLY_RETURN_SUBMIT).filter(pk=text).first()
    except (ValueError, ValidationError):
        return None
