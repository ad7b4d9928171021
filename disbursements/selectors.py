"""Reads of batches, lines, corrections, recoveries and letters, scoped to the user's role; ordered
explicitly. (The ledger, 台账, has a module of its own: `ledger.py`.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from funding.models import Award, AwardStatus, Semester
from schools.models import School
from schools.permissions import Action

from . import summary
from .models import BankReturn, Batch, BatchStatus, Correction, LineStatus, PaymentLine, Recovery

_LIVE = ~Q(status=LineStatus.REMOVED)


def batch_list(*, user: Any, semester: Semester | None) -> QuerySet[Batch] | list[Batch]:
    """A semester's batches with their live lines' count and total."""
    if semester is None:
        return []
    return batch_counted(batch_rows(user=user, semester=semester))


def batch_rows(*, user: Any, semester: Semester | None) -> QuerySet[Batch]:
    """A semester's batches by number (none without a semester); the list page filters these."""
    qs = Batch.objects.visible_to(user).filter(semester=semester).order_by("number", "pk")
    return qs if semester is not None else qs.none()


def batch_counted(qs: QuerySet[Batch], **lines: Any) -> QuerySet[Batch]:
    """`qs` with each batch's live lines' count and total; with `lines` (program=…, status=…), of
    those lines only (the list filtered by a program or a bank's answer)."""
    live = ~Q(lines__status=LineStatus.REMOVED)
    for name, value in lines.items():
        live &= Q(**{f"lines__{name}": value})
    return qs.annotate(line_count=Count("lines", filter=live), total=Sum("lines__amount", filter=live))


def batch_figures(batches: list[Batch], **lines: Any) -> list[Batch]:
    """The batches of a page, each given `line_count` and `total` as `batch_counted` computes them (its
    live lines; with `lines`, of those lines only): one grouped query over the page's batches' lines
    by their batch (not a join grouped by every column of the batch)."""
    figures = {
        row["batch_id"]: row
        for row in PaymentLine.objects.filter(batch__in=[b.pk for b in batches], **lines)
        .filter(_LIVE)
        .order_by()
        .values("batch_id")
        .annotate(n=Count("pk"), t=Sum("amount"))
    }
    for batch in batches:
        row = figures.get(batch.pk, {})
        batch.line_count, batch.total = row.get("n", 0), row.get("t")
    return batches


def line_rows(*, user: Any, batch: Batch) -> QuerySet[PaymentLine]:
    """The batch's payment lines the user sees, by school, class and name (the batch page filters these)."""
    return (
        PaymentLine.objects.visible_to(user)
        .filter(batch=batch)
        .select_related("student", "school", "klass__grade", "program")
        .order_by("school_id", "klass_id", "student__name", "pk")
    )


@dataclass
class BatchOverview:
    """One batch as its page shows it: per school (confirmed? may this user confirm?), the failed
    lines, the banks on it and the bank's returns."""

    schools: list[dict[str, Any]]
    failed: QuerySet[PaymentLine]
    banks: list[str]
    returns: QuerySet[BankReturn]


def batch_overview(*, user: Any, batch: Batch) -> BatchOverview:
    lines = PaymentLine.objects.visible_to(user).filter(batch=batch)
    by_school = (
        lines.values("school_id", "school__name")
        .annotate(
            count=Count("pk", filter=_LIVE),
            total=Sum("amount", filter=_LIVE),
            paid=Sum("amount", filter=Q(status=LineStatus.PAID)),
            failed=Sum("amount", filter=Q(status=LineStatus.FAILED)),
        )
        .order_by("school__name", "school_id")
    )
    confirmed = set(batch.confirmations.values_list("school_id", flat=True))
    schools = [dict(row, confirmed=row["school_id"] in confirmed) for row in by_school]
    confirmable = set(
        School.objects.visible_to(user, Action.ENROLLMENT_CONFIRM)
        .filter(pk__in=[row["school_id"] for row in schools])
        .values_list("pk", flat=True)
    )
    for row in schools:
        row["may_confirm"] = (
            batch.status == BatchStatus.FROZEN and not row["confirmed"] and row["school_id"] in confirmable
        )
    return BatchOverview(
        schools=schools,
        failed=lines.filter(status=LineStatus.FAILED).select_related("student", "school").order_by("pk")[:200],
        banks=sorted(set(lines.exclude(status=LineStatus.REMOVED).values_list("bank", flat=True))),
        returns=batch.returns.order_by("-created_at", "pk"),
    )


def correction_list(*, user: Any, limit: int = 300) -> QuerySet[Correction]:
    return correction_rows(user=user)[:limit]


def correction_rows(*, user: Any) -> QuerySet[Correction]:
    """The corrections the user sees, newest first (the page filters and pages these)."""
    return (
        Correction.objects.visible_to(user)
        .select_related("award__student", "award__program", "proposed_by", "decided_by", "school")
        .order_by("-created_at", "pk")
    )


def recovery_list(*, user: Any, limit: int = 300) -> QuerySet[Recovery]:
    return recovery_rows(user=user)[:limit]


def recovery_rows(*, user: Any) -> QuerySet[Recovery]:
    """The recovery cases the user sees, open ones first."""
    return (
        Recovery.objects.visible_to(user)
        .select_related("line__student", "line__program", "school")
        .order_by("status", "-created_at", "pk")
    )


def letters(*, user: Any, semester: Semester | None, students: Any) -> list[dict[str, Any]]:
    """温馨告知书: one letter per funded student (their approved awards of the semester)."""
    awards = (
        Award.objects.visible_to(user, Action.FUNDING_VIEW)
        .filter(semester=semester, student__in=students, status=AwardStatus.APPROVED)
        .select_related("student", "school", "klass", "program")
        .order_by("student__name", "program__sort_order", "pk")
    )
    found: dict[Any, dict[str, Any]] = {}
    for award in awards:
        letter = found.setdefault(award.student_id, {"student": award.student, "school": award.school, "awards": []})
        letter["awards"].append(award)
    return list(found.values())


def line_counts_by_program(*, user: Any, semester: Semester) -> dict[Any, dict[str, int]]:
    """{program id: {"paid", "failed", "recovered"}} of the semester in the user's units: payment lines
    paid and failed, recoveries done. Read from the maintained money summary (one small GROUP BY)."""
    return summary.line_counts_by_program(user=user, semester=semester)


def failed_line_count(*, user: Any, semester: Semester | None) -> int:
    """Lines the bank returned as failed (fix the card; a reissue batch pays them) in the user's units."""
    if semester is None:
        return 0
    return PaymentLine.objects.visible_to(user).filter(semester=semester, status=LineStatus.FAILED).count()


def batches_waiting(*, user: Any, semester: Semester | None) -> QuerySet[Batch] | list[Batch]:
    """The semester's batches not yet closed (frozen for the schools' check, or at the bank), oldest first."""
    if semester is None:
        return []
    return (
        Batch.objects.visible_to(user)
        .filter(semester=semester, status__in=[BatchStatus.FROZEN, BatchStatus.RELEASED])
        .order_by("number", "pk")
    )


def student_file_section(*, user: Any, student: Any) -> dict[str, Any] | None:
    """What the money adds to the pupil's file (一生一档): every payment line (semester, batch, program,
    amount, the bank's answer), and each correction and recovery of the pupil's awards. None for a user
    who does not see the pupil's money. Three queries."""
    from schools import permissions

    if not permissions.can(user, Action.FUNDING_VIEW, student):
        return None
    lines = list(
        PaymentLine.objects.visible_to(user)
        .filter(student=student)
        .select_related("batch__semester", "program")
        .order_by("-semester__academic_year", "-semester__term", "batch__number", "created_at", "pk")
    )
    corrections = list(
        Correction.objects.visible_to(user)
        .filter(award__student=student)
        .select_related("award__program", "award__semester", "proposed_by", "decided_by")
        .order_by("-created_at", "pk")
    )
    recoveries = list(
        Recovery.objects.visible_to(user)
        .filter(line__student=student)
        .select_related("line__program")
        .order_by("-created_at", "pk")
    )
    return {
        "lines": lines,
        "corrections": corrections,
        "recoveries": recoveries,
        "student_pk": student.pk,
        "proposes_emergency": permissions.can(user, Action.AWARD_PREPARE, student),
    }


def letter_classes(*, user: Any) -> QuerySet[Any]:
    """The classes of the user's units (those who see money), by school, grade and number."""
    from schools.models import SchoolClass

    return (
        SchoolClass.objects.visible_to(user, Action.FUNDING_VIEW)
        .select_related("school", "grade")
        .order_by("school__code", "grade__entry_year", "number", "pk")
    )
