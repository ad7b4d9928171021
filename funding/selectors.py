"""Reads of programs, semesters, budgets and award lists, scoped to the user's role."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from schools.models import School
from schools.permissions import Action

from .models import ZERO, Award, AwardList, AwardListStatus, AwardStatus, Budget, BudgetWaiver, Program, Semester, Term


def semester_list(*, user: Any) -> QuerySet[Semester]:
    return Semester.objects.visible_to(user).order_by("-academic_year", "-term", "pk")


def current_semester(*, user: Any) -> Semester | None:
    return semester_list(user=user).first()


def semester_from_request(request: Any) -> Semester | None:
    """The semester a page works on: `semester` from the query or the form, else the latest one; 404
    for one the user may not see. The one way pages choose a semester."""
    return semester_for(user=request.user, wanted=request.GET.get("semester") or request.POST.get("semester"))


def semester_for(*, user: Any, wanted: Any = None) -> Semester | None:
    """The semester a page asks for (`?semester=`, its id or its code), or the latest one; 404 for one
    not visible."""
    if wanted:
        semester = semester_by_code(code=wanted, user=user)
        if semester is None:
            raise Http404
        return semester
    return current_semester(user=user)


def semester_by_code(*, code: str, user: Any = None, tenant: Any = None) -> Semester | None:
    """The semester `code` names, by its code as `Semester.code` writes it (2026-AUTUMN) or by its id,
    among those `user` may see, or, for a command acting for the whole `tenant`, among the tenant's
    (pass one of the two). None for any other text, another tenant's semester included. The one way
    the API and the commands turn a semester's name into the semester."""
    if (user is None) == (tenant is None):
        raise TypeError("semester_by_code takes a user or a tenant")
    semesters = semester_list(user=user) if user is not None else Semester.objects.filter(tenant=tenant)
    text = str(code).strip()
    year, _dash, term = text.upper().partition("-")
    if len(year) == 4 and year.isdigit() and term in Term.values:
        return semesters.filter(academic_year=int(year), term=term).first()
    try:
        pk = uuid.UUID(text)
    except ValueError:
        return None
    return semesters.filter(pk=pk).first()


def schools_preparing(*, user: Any) -> QuerySet[School]:
    """The schools whose award lists the user prepares (a school's officer: theirs), by code: the
    role's scope in the query, not a permission check per visible school."""
    return School.objects.visible_to(user, Action.AWARD_PREPARE).order_by("code", "pk")


def program_list(*, user: Any) -> QuerySet[Program]:
    return Program.objects.visible_to(user).filter(is_active=True).order_by("sort_order", "code")


def award_list_list(*, user: Any, semester: Semester | None = None) -> QuerySet[AwardList]:
    """Award lists the user may see, with their proposed and approved counts and total amount."""
    return award_list_counted(award_list_rows(user=user, semester=semester))


def award_list_rows(*, user: Any, semester: Semester | None = None) -> QuerySet[AwardList]:
    """Award lists the user may see (of `semester`), by school and program (the list page filters these)."""
    qs = AwardList.objects.visible_to(user).select_related("program", "semester", "school")
    if semester is not None:
        qs = qs.filter(semester=semester)
    return qs.order_by("school__code", "program__sort_order", "pk")


def award_list_counted(qs: QuerySet[AwardList]) -> QuerySet[AwardList]:
    """`qs` with each list's proposed and approved counts and total amount.

    The sums are one correlated subquery per value over the list's own awards (its index), not a join
    grouped by every column of the list, its program, semester and school: with 20,000 awards that
    grouping cost about 25 ms of the database per view (docs/benchmarks.md, "List pages under load").
    """
    awards = Award.objects.filter(award_list=OuterRef("pk")).order_by().values("award_list")
    live = [AwardStatus.PROPOSED, AwardStatus.APPROVED]

    def count_of(status: str) -> Subquery:
        return Subquery(awards.filter(status=status).annotate(n=Count("pk")).values("n"))

    return qs.annotate(
        proposed=Coalesce(count_of(AwardStatus.PROPOSED), 0),
        approved=Coalesce(count_of(AwardStatus.APPROVED), 0),
        total=Subquery(awards.filter(status__in=live).annotate(t=Sum("amount")).values("t")),
    )


def award_list_figures(lists: list[AwardList]) -> list[AwardList]:
    """The lists of a page, each given `proposed`, `approved` (its awards in those statuses) and `total`
    (their amount), as `award_list_counted` computes them: one grouped query over the page's lists,
    each award read once (three correlated subqueries per list read a list's awards three times)."""
    live = [AwardStatus.PROPOSED, AwardStatus.APPROVED]
    figures = {
        row["award_list_id"]: row
        for row in Award.objects.filter(award_list__in=[a.pk for a in lists], status__in=live)
        .order_by()
        .values("award_list_id")
        .annotate(
            proposed=Count("pk", filter=Q(status=AwardStatus.PROPOSED)),
            approved=Count("pk", filter=Q(status=AwardStatus.APPROVED)),
            total=Sum("amount"),
        )
    }
    for award_list in lists:
        row = figures.get(award_list.pk, {})
        award_list.proposed = row.get("proposed", 0)
        award_list.approved = row.get("approved", 0)
        award_list.total = row.get("total")
    return lists


def award_list_detail(*, award_list: AwardList) -> QuerySet[Award]:
    return (
        Award.objects.filter(award_list=award_list)
        .select_related("student", "grade", "klass__grade", "program")
        .order_by("grade__stage", "-grade__entry_year", "klass__number", "student__name", "pk")
    )


def budget_list(*, user: Any, semester: Semester) -> QuerySet[Budget]:
    return (
        Budget.objects.visible_to(user, Action.FUNDING_VIEW)
        .filter(semester=semester)
        .select_related("program", "school")
        .order_by("program__sort_order", "school__code", "pk")
    )


def budget_overview(*, user: Any, program: Program, semester: Semester) -> QuerySet[Budget]:
    """精准预算 by school for one program and semester: each budget with `approved` (the school's
    approved awards, one correlated sum per row over the awards' index) and `left` (quota − approved),
    ordered by school code. One query."""
    approved = (
        Award.objects.filter(
            program=OuterRef("program_id"),
            semester=OuterRef("semester_id"),
            school=OuterRef("school_id"),
            status=AwardStatus.APPROVED,
        )
        .order_by()
        .values("school")
        .annotate(t=Sum("amount"))
        .values("t")
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    return (
        Budget.objects.visible_to(user, Action.FUNDING_VIEW)
        .filter(program=program, semester=semester)
        .select_related("school", "program", "semester")
        .annotate(approved=Coalesce(Subquery(approved, output_field=money), Value(ZERO, output_field=money)))
        .annotate(left=F("planned_amount") + F("adjustment") - F("approved"))
        .order_by("school__code", "pk")
    )


def budget_rows(*, user: Any, program: Program, semester: Semester) -> list[Budget]:
    """The budgets `budget_overview` answers, with the same `approved` and `left`, for a page: the
    budgets in one query and the program's approved money by school in one grouped query over the
    awards' index (not a correlated sum per budget, each reading the program's every approved award)."""
    budgets = list(
        Budget.objects.visible_to(user, Action.FUNDING_VIEW)
        .filter(program=program, semester=semester)
        .select_related("school", "program", "semester")
        .order_by("school__code", "pk")
    )
    if not budgets:
        return budgets
    approved = dict(
        Award.objects.filter(
            program=program,
            semester=semester,
            school__in=[b.school_id for b in budgets],
            status=AwardStatus.APPROVED,
        )
        .order_by()
        .values("school")
        .annotate(t=Sum("amount"))
        .values_list("school", "t")
    )
    for b in budgets:
        b.approved = approved.get(b.school_id) or ZERO
        b.left = b.planned_amount + b.adjustment - b.approved
    return budgets


def budget_waiver_for(*, user: Any, program: Program, semester: Semester) -> BudgetWaiver | None:
    """The district's decision that the program's lists of the semester may be approved without a
    budget, if it is recorded and the user may see it."""
    return (
        BudgetWaiver.objects.visible_to(user, Action.FUNDING_VIEW)
        .filter(program=program, semester=semester)
        .select_related("decided_by")
        .first()
    )


def award_lists_in_publicity(*, user: Any, semester: Semester | None) -> QuerySet[AwardList]:
    """The semester's award lists in publicity (公示中), soonest end first, for the home page."""
    if semester is None:
        return AwardList.objects.none()
    return (
        AwardList.objects.visible_to(user)
        .filter(semester=semester, status=AwardListStatus.PUBLICITY)
        .select_related("school", "program")
        .order_by("ends_on", "school__code", "pk")
    )


def award_counts_by_program(*, user: Any, semester: Semester) -> dict[Any, dict[str, int]]:
    """{program id: {"listed": awards on a list (proposed or approved), "approved": approved}} of the
    semester in the user's units: one grouped query."""
    rows = (
        Award.objects.visible_to(user)
        .filter(semester=semester)
        .order_by()
        .values("program_id")
        .annotate(
            listed=Count("pk", filter=Q(status__in=[AwardStatus.PROPOSED, AwardStatus.APPROVED])),
            approved=Count("pk", filter=Q(status=AwardStatus.APPROVED)),
        )
    )
    return {r["program_id"]: {"listed": r["listed"], "approved": r["approved"]} for r in rows}


def emergency_awards(*, user: Any, semester: Semester | None) -> QuerySet[Award]:
    """临时救助 of the semester in the user's units, newest first (proposed ones waiting for the district)."""
    if semester is None:
        return Award.objects.none()
    return (
        Award.objects.visible_to(user)
        .filter(semester=semester, program__is_emergency=True)
        .select_related("student", "school", "klass__grade", "award_list")
        .order_by("-created_at", "pk")
    )


def emergency_candidates(*, user: Any, q: str) -> Any:
    """Pupils the user may propose emergency aid for, found by a name fragment or a whole ID number (at
    most 20); none without a search."""
    from students.filters import pupil_search
    from students.models import Student

    if not q.strip():
        return Student.objects.none()
    qs = Student.objects.visible_to(user, Action.AWARD_PREPARE).select_related("school", "klass__grade")
    return pupil_search(qs, q.strip()[:50]).order_by("name", "pk")[:20]
