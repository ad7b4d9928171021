"""Reads of the post-payment checks (回访), scoped: a school's officer and principal see their school's
sampled lines and follow-ups only; the district sees all. Progress and results are one GROUP BY each."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from disbursements.models import Batch, BatchStatus
from funding.models import Semester
from schools.permissions import Action

from .models import (
    CheckFollowUp,
    CheckLineStatus,
    CheckResult,
    FollowUpStatus,
    SpotCheck,
    SpotCheckLine,
)


def sample_list(*, user: Any, semester: Semester | None) -> QuerySet[SpotCheck]:
    """The semester's samples, by batch number (a batch names itself by its semester: joined, not a query a row)."""
    qs = (
        SpotCheck.objects.visible_to(user).select_related("batch__semester", "drawn_by").order_by("batch__number", "pk")
    )
    return qs.filter(semester=semester) if semester is not None else qs.none()


def batches_to_sample(*, user: Any, semester: Semester | None) -> QuerySet[Batch]:
    """The semester's batches the bank answered (released or closed) that have no sample yet."""
    if semester is None:
        return Batch.objects.none()
    sampled = SpotCheck.objects.filter(batch_id=OuterRef("pk"))
    return (
        Batch.objects.visible_to(user, Action.SPOT_CHECK_DRAW)
        .filter(semester=semester, status__in=[BatchStatus.RELEASED, BatchStatus.CLOSED])
        .exclude(Exists(sampled))
        .select_related("semester")  # the choice's label names it
        .order_by("number", "pk")
    )


def _counted(qs: QuerySet[SpotCheckLine]) -> QuerySet:
    return qs.annotate(
        total=Count("pk"),
        done=Count("pk", filter=Q(status=CheckLineStatus.CHECKED)),
        **{r.lower(): Count("pk", filter=Q(result=r)) for r in CheckResult.values},
    )


def progress_by_school(*, user: Any, samples: Any, action: Action = Action.FUNDING_VIEW) -> list[dict[str, Any]]:
    """Per sample and school the user sees: lines sampled, checked, and each result (one GROUP BY)."""
    rows = (
        SpotCheckLine.objects.visible_to(user, action)
        .filter(sample__in=samples)
        .order_by()
        .values("sample_id", "school_id", "school__name")
    )
    return sorted(_counted(rows), key=lambda r: (str(r["sample_id"]), r["school__name"], str(r["school_id"])))


def sample_lines(*, user: Any, sample: SpotCheck) -> QuerySet[SpotCheckLine]:
    """The sample's lines the user sees (a school: its own), by school and place in the draw."""
    return (
        SpotCheckLine.objects.visible_to(user)
        .filter(sample=sample)
        .select_related("student", "school", "klass__grade", "line__program", "recorded_by")
        .prefetch_related("follow_ups__correction")
        .order_by("school__name", "school_id", "rank", "pk")
    )


def open_follow_ups(*, user: Any, action: Action = Action.FUNDING_VIEW) -> QuerySet[CheckFollowUp]:
    """Discrepancies not yet settled, oldest first."""
    return (
        CheckFollowUp.objects.visible_to(user, action)
        .filter(status=FollowUpStatus.OPEN)
        .select_related(
            "check_line__student", "check_line__line__program", "school", "check_line__sample__batch__semester"
        )
        .order_by("created_at", "pk")
    )


def pending_count(*, user: Any) -> int:
    """Sampled lines the user's school still has to ask the family about."""
    return (
        SpotCheckLine.objects.visible_to(user, Action.SPOT_CHECK_RECORD).filter(status=CheckLineStatus.PENDING).count()
    )


def dashboard_rows(
    *, user: Any, semester: Semester | None, previous: Semester | None, action: Action
) -> tuple[list[list[Any]], list[list[Any]]]:
    """The dashboard's two tables: progress per school this semester ([school, checked, sampled]) and
    results ([result, this semester, previous]). One grouped statement (semester × school)."""
    semesters = [s for s in (semester, previous) if s is not None]
    rows = list(
        _counted(
            SpotCheckLine.objects.visible_to(user, action)
            .filter(sample__semester__in=semesters)
            .order_by()
            .values("sample__semester_id", "school_id", "school__name")
        )
    )
    current = [r for r in rows if semester is not None and r["sample__semester_id"] == semester.pk]
    progress = [
        [r["school__name"], r["done"], r["total"]]
        for r in sorted(current, key=lambda r: (r["school__name"], str(r["school_id"])))
    ]

    def total(s: Semester | None, measure: str) -> int:
        return sum(r[measure] for r in rows if s is not None and r["sample__semester_id"] == s.pk)

    results = [
        [str(label), *(total(s, value.lower()) for s in (semester, previous))] for value, label in CheckResult.choices
    ]
    results.append([_("Not yet checked"), *(total(s, "total") - total(s, "done") for s in (semester, previous))])
    return progress, results
