"""Reads of dropout control, scoped to the person (through the one scoping helper), ordered explicitly."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from core import clock
from schools.models import SchoolClass
from schools.permissions import Action
from students.models import EnrollmentStatus, Student

from .models import (
    OPEN_STATES,
    Absence,
    CareRules,
    CaseResponsible,
    CaseStatus,
    CaseStep,
    ChiefRole,
    DropoutCase,
    StepKind,
)


def rules_current() -> CareRules:
    """The current tenant's rules of dropout control: its row, or the defaults (unsaved) if it has none."""
    return CareRules.objects.order_by("pk").first() or CareRules()


def attendance_classes(*, user: Any) -> QuerySet[SchoolClass]:
    """The classes whose absences the user records (a class teacher: their own)."""
    return (
        SchoolClass.objects.visible_to(user, Action.ATTENDANCE_RECORD)
        .select_related("school", "grade")
        .order_by("school__name", "grade__entry_year", "number", "pk")
    )


@dataclass(frozen=True)
class SheetRow:
    student: Student
    reason: str  # "" = present
    case: DropoutCase | None


def class_day_sheet(*, user: Any, klass: SchoolClass, day: dt.date) -> list[SheetRow]:
    """One row per attending pupil of the class: the day's recorded reason and the pupil's open case.
    Three queries whatever the class size."""
    pupils = list(
        Student.objects.visible_to(user, Action.STUDENT_VIEW)
        .filter(klass=klass, enrollment_status=EnrollmentStatus.ATTENDING)
        .order_by("name", "pk")
    )
    ids = [p.pk for p in pupils]
    reasons = dict(
        Absence.objects.visible_to(user).filter(klass=klass, absent_on=day).values_list("student_id", "reason")
    )
    cases = {
        c.student_id: c for c in DropoutCase.objects.visible_to(user).filter(student_id__in=ids, status__in=OPEN_STATES)
    }
    return [SheetRow(student=p, reason=reasons.get(p.pk, ""), case=cases.get(p.pk)) for p in pupils]


def case_list(*, user: Any, status: str = "", visit_due: bool = False) -> QuerySet[DropoutCase]:
    """The cases the user may see, open ones first, the oldest absence first."""
    qs = DropoutCase.objects.visible_to(user).select_related("student", "school", "grade", "klass__grade")
    if status in CaseStatus.values:
        qs = qs.filter(status=status)
    if visit_due:
        qs = cases_visit_due(qs)
    return qs.order_by("-last_absent_on", "pk")


def cases_visit_due(qs: QuerySet[DropoutCase]) -> QuerySet[DropoutCase]:
    """The cases of `qs` whose home visit is due today or overdue and not yet recorded."""
    visited = CaseStep.objects.filter(case_id=OuterRef("pk"), kind=StepKind.HOME_VISIT)
    return qs.filter(
        status__in=[CaseStatus.ABSENT, CaseStatus.SUSPECTED], home_visit_due_on__lte=clock.today()
    ).exclude(Exists(visited))


def case_steps(*, user: Any, case: DropoutCase) -> QuerySet[CaseStep]:
    return (
        CaseStep.objects.visible_to(user)
        .filter(case=case)
        .select_related("actor")
        .order_by("done_on", "created_at", "pk")
    )


def case_corrections(*, user: Any, case: DropoutCase) -> QuerySet[Any]:
    """The stops, and their reversals, that the case proposed (停发 on confirmation, resumption on the
    return), as far as the user sees funding: what waits for the district's approval, and what it decided."""
    from disbursements.models import Correction

    from .services import case_evidence

    marker = case_evidence(case)
    return (
        Correction.objects.visible_to(user)
        .filter(Q(evidence=marker) | Q(reverses__evidence=marker))
        .select_related("award__program", "award__semester")
        .order_by("created_at", "pk")
    )


def case_responsibles(*, user: Any, case: DropoutCase) -> list[CaseResponsible]:
    """The case's chiefs in the order of the six roles (教体局局长 first)."""
    order = {role: i for i, role in enumerate(ChiefRole.values)}
    rows = list(CaseResponsible.objects.visible_to(user).filter(case=case).select_related("user"))
    return sorted(rows, key=lambda r: (order.get(r.role, 99), str(r.pk)))


def case_notices(*, user: Any, case: DropoutCase) -> QuerySet[CaseStep]:
    """The written notices delivered on the case, the highest level last."""
    return case_steps(user=user, case=case).filter(kind=StepKind.WRITTEN_NOTICE)


def class_for_user(*, user: Any, text: str) -> SchoolClass | None:
    """A class the user may see, by its id (None for a missing one, another tenant's, or outside the
    user's units alike)."""
    try:
        return SchoolClass.objects.visible_to(user).filter(pk=text).first()
    except (ValueError, ValidationError):
        return None


def account_of_tenant(*, user: Any, text: str) -> Any | None:
    """An account of the user's own district (a chief who signs in), by its id; None otherwise."""
    from schools.models import User

    try:
        return User.objects.filter(tenant_id=user.tenant_id, is_active=True, pk=text).first()
    except (ValueError, ValidationError):
        return None


def absences_on(*, user: Any, day: dt.date) -> dict[Any, int]:
    """{class id: absences recorded on the day} in the classes the user records: one grouped query."""
    classes = SchoolClass.objects.visible_to(user, Action.ATTENDANCE_RECORD).values("pk")
    rows = (
        Absence.objects.visible_to(user)
        .filter(absent_on=day, klass_id__in=classes)
        .order_by()
        .values("klass_id")
        .annotate(n=Count("pk"))
    )
    return {r["klass_id"]: r["n"] for r in rows}


def watch_counts(*, user: Any) -> dict[str, int]:
    """Pupils to watch (dropout control) in the user's units: {case status: open cases} plus "visit_due"
    (home visits due and not recorded, as `case_list(visit_due=True)` lists them). One query."""
    visited = CaseStep.objects.filter(case_id=OuterRef("pk"), kind=StepKind.HOME_VISIT)
    rows = (
        DropoutCase.objects.visible_to(user)
        .filter(status__in=OPEN_STATES)
        .annotate(visited=Exists(visited))
        .aggregate(
            **{
                s.lower(): Count("pk", filter=Q(status=s))
                for s in (CaseStatus.ABSENT, CaseStatus.SUSPECTED, CaseStatus.CONFIRMED, CaseStatus.PERSUADING)
            },
            visit_due=Count(
                "pk",
                filter=Q(
                    status__in=[CaseStatus.ABSENT, CaseStatus.SUSPECTED],
                    home_visit_due_on__lte=clock.today(),
                    visited=False,
                ),
            ),
        )
    )
    return {k.upper() if k != "visit_due" else k: v or 0 for k, v in rows.items()}


def open_cases_by_school(*, user: Any) -> dict[Any, int]:
    """{school id: open cases} in the user's units: one grouped query."""
    rows = (
        DropoutCase.objects.visible_to(user)
        .filter(status__in=OPEN_STATES)
        .order_by()
        .values("school_id")
        .annotate(n=Count("pk"))
    )
    return {r["school_id"]: r["n"] for r in rows}
