"""What dropout control asks of people: the school hears of unexplained absences (on the day the rules
say), suspected dropouts wait for a decision, home visits fall due."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _

from core import clock
from core.worklist import WorkItem
from schools import permissions
from schools.permissions import Action
from schools.workdays import CalendarYearNotLoaded

from .models import CaseStatus, CaseStep, DropoutCase, StepKind, WeeklyReturn, WeeklyReturnStatus
from .weekly.deadline import week_of, week_start_of
from .weekly.selectors import schools_filing


def care_items(user: Any) -> list[WorkItem]:
    if not permissions.can(user, Action.CARE_VIEW):
        return []
    today = clock.today()
    url = reverse("care:cases")
    items: list[WorkItem] = []
    if permissions.can(user, Action.CASE_DECIDE):
        told = DropoutCase.objects.visible_to(user, Action.CASE_DECIDE).filter(
            status=CaseStatus.ABSENT, school_notice_on__lte=today
        )
        if n := told.count():
            items.append(
                WorkItem(
                    label=_("Pupils absent without explanation"),
                    count=n,
                    url=f"{url}?status={CaseStatus.ABSENT}",
                    hint=_("a home visit is due; the case becomes a suspected dropout if the absence goes on"),
                )
            )
        suspected = DropoutCase.objects.visible_to(user, Action.CASE_DECIDE).filter(status=CaseStatus.SUSPECTED)
        if n := suspected.count():
            items.append(
                WorkItem(label=_("Suspected dropouts to decide"), count=n, url=f"{url}?status={CaseStatus.SUSPECTED}")
            )
    if permissions.can(user, Action.CASE_STEP):
        visited = CaseStep.objects.filter(case_id=OuterRef("pk"), kind=StepKind.HOME_VISIT)
        due = (
            DropoutCase.objects.visible_to(user, Action.CASE_STEP)
            .filter(status__in=[CaseStatus.ABSENT, CaseStatus.SUSPECTED], home_visit_due_on__lte=today)
            .exclude(Exists(visited))
        )
        if n := due.count():
            items.append(
                WorkItem(
                    label=_("Home visits due"), count=n, url=f"{url}?visit=due", hint=_("record the visit on the case")
                )
            )
    return items


def pairing_items(user: Any) -> list[WorkItem]:
    """1+1 结对帮扶: a teacher's overdue visits (their home page); pupils without a teacher (school, district)."""
    from .pairing import selectors as pairing

    items: list[WorkItem] = []
    if permissions.can(user, Action.VISIT_RECORD):
        overdue = [row for row in pairing.my_pairings(user=user) if row.overdue]
        if overdue:
            items.append(
                WorkItem(
                    label=_("Pairing visits overdue"),
                    count=len(overdue),
                    url=reverse("care:my_pupils"),
                    hint=_("visit the family and record the visit"),
                )
            )
    if permissions.can(user, Action.PAIRING_MANAGE) and (n := pairing.uncovered_count(user=user)):
        items.append(
            WorkItem(
                label=_("Pupils without a paired teacher"),
                count=n,
                url=reverse("care:pairing"),
                hint=_("registered poor or especially difficult: pair each with a teacher"),
            )
        )
    return items


def weekly_items(user: Any) -> list[WorkItem]:
    """每周按时填报: the school's officer sees this week's return due and any week the reminder task
    found late; the district (and the principal) see the schools that were reminded and still have not
    filed, over the last four weeks."""
    if not permissions.can(user, Action.WEEKLY_RETURN_VIEW):
        return []
    today = clock.today()
    url = reverse("care:weekly")
    items: list[WorkItem] = []
    late = WeeklyReturn.objects.visible_to(user).filter(
        status=WeeklyReturnStatus.DUE, week_start__gte=week_start_of(today) - dt.timedelta(days=28)
    )
    if permissions.can(user, Action.WEEKLY_RETURN_SUBMIT):
        try:
            week = week_of(today)
        except CalendarYearNotLoaded:
            week = None  # the calendar's own banner says so; no deadline can be told
        if week is not None and week.due_on is not None:
            filed = WeeklyReturn.objects.filter(
                school_id=OuterRef("pk"), week_start=week.start, status=WeeklyReturnStatus.SUBMITTED
            )
            if n := schools_filing(user=user, action=Action.WEEKLY_RETURN_SUBMIT).exclude(Exists(filed)).count():
                items.append(
                    WorkItem(
                        label=_("Weekly return due"),
                        count=n,
                        url=url,
                        hint=_("dropouts and suspected dropouts of the week, zero too; due %(date)s")
                        % {"date": week.due_on.isoformat()},
                    )
                )
        oldest = late.order_by("week_start", "pk").first()
        if oldest is not None:
            items.append(
                WorkItem(
                    label=_("Weekly returns overdue"),
                    count=late.count(),
                    url=f"{url}?week={oldest.week_start.isoformat()}",
                    hint=_("the district was told; submit them now"),
                )
            )
    elif n := late.count():
        items.append(
            WorkItem(
                label=_("Schools late with the weekly return"),
                count=n,
                url=url,
                hint=_("reminded, not yet submitted (last four weeks)"),
                kind="todo" if permissions.can(user, Action.CASE_DECIDE) else "info",
            )
        )
    return items
