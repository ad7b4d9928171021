"""Reads of the outreach records (宣传), scoped: a school's officer and principal see their school's, the
district every school's. Coverage is one GROUP BY (school, kind) over the semester."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet, Sum

from funding.models import Program, Semester
from schools.models import School, SchoolClass
from schools.permissions import Action
from students.models import EnrollmentStatus, Student

from .models import OutreachKind, OutreachRecord


def record_list(*, user: Any, semester: Semester | None) -> QuerySet[OutreachRecord]:
    """The semester's records the user sees, newest first."""
    qs = (
        OutreachRecord.objects.visible_to(user)
        .select_related("school", "klass__grade", "recorded_by")
        .order_by("-held_on", "-created_at", "pk")
    )
    return qs.filter(semester=semester) if semester is not None else qs.none()


def coverage(*, user: Any, semester: Semester | None) -> list[dict[str, Any]]:
    """Per school the user sees: for each kind, how many times it was done this semester and the people
    reached ([{"school", "kinds": {kind: {"n", "audience"}}, "missing": [kind labels]}])."""
    schools = list(School.objects.visible_to(user, Action.OUTREACH_VIEW).order_by("code", "pk"))
    counts: dict[Any, dict[str, dict[str, int]]] = {}
    if semester is not None:
        rows = (
            OutreachRecord.objects.visible_to(user)
            .filter(semester=semester)
            .order_by()
            .values("school_id", "kind")
            .annotate(n=Count("pk"), audience=Sum("audience"))
        )
        for r in rows:
            counts.setdefault(r["school_id"], {})[r["kind"]] = {"n": r["n"], "audience": r["audience"] or 0}
    return [
        {
            "school": school,
            "cells": [counts.get(school.pk, {}).get(kind) for kind in OutreachKind.values],
            "missing": [label for kind, label in OutreachKind.choices if kind not in counts.get(school.pk, {})],
        }
        for school in schools
    ]


def schools_covered(*, user: Any, semesters: list[Semester], action: Action) -> dict[Any, dict[str, int]]:
    """{semester id: {kind: schools that did it}} (one GROUP BY), for the dashboard."""
    found: dict[Any, dict[str, int]] = {s.pk: {} for s in semesters}
    rows = (
        OutreachRecord.objects.visible_to(user, action)
        .filter(semester__in=semesters)
        .order_by()
        .values("semester_id", "kind")
        .annotate(n=Count("school_id", distinct=True))
    )
    for r in rows:
        found[r["semester_id"]][r["kind"]] = r["n"]
    return found


def letter_pupils(*, user: Any, klass: SchoolClass) -> QuerySet[Student]:
    """The class's attending pupils, by name: names only are printed (never an ID number)."""
    return (
        Student.objects.visible_to(user, Action.OUTREACH_VIEW)
        .filter(klass=klass, enrollment_status=EnrollmentStatus.ATTENDING)
        .only("pk", "name", "klass_id", "school_id", "grade_id")
        .order_by("name", "pk")
    )


def letter_programs(*, user: Any, klass: SchoolClass) -> list[Program]:
    """The active programs (emergency aid aside) that serve the class's stage, for the letter."""
    programs = Program.objects.visible_to(user, Action.OUTREACH_VIEW).filter(is_active=True, is_emergency=False)
    stage = klass.grade.stage
    return [p for p in programs.order_by("sort_order", "pk") if not p.stages or stage in p.stages]
