"""Reads of the 1+1 pairing, the paired teachers' visits and the watch list: scoped through the one
scoping helper (plus, for a teacher, the rows that name them: their own pairings and visits), ordered
explicitly, a fixed number of queries per page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BooleanField, Count, Exists, F, Func, Max, OuterRef, Q, QuerySet, Subquery, Window

from core import clock
from schools import permissions
from schools.models import RoleAssignment, School, User
from schools.permissions import Action, Role
from students.models import (
    ApplicationStatus,
    EnrollmentStatus,
    HardshipApplication,
    HomeVisit,
    Student,
    Tier,
    VisitPurpose,
)

from ..models import OPEN_STATES, DropoutCase, Pairing, RiskFlag, RiskKind
from ..selectors import rules_current

#: The hardship categories of registered-poor households (建档立卡 / 脱贫户, 脱贫不稳定户, 边缘易致贫户:
#: the monitored households of 防返贫监测), by the codes of the national defaults: such a pupil, and every
#: pupil identified as especially difficult (特别困难), is to have a paired teacher.
REGISTERED_POOR_CATEGORIES = ("LIFTED", "LIFTED_UNSTABLE", "EDGE_POVERTY")
DISABILITY_CATEGORIES = ("DISABLED_STUDENT",)
LEFT_BEHIND_CATEGORIES = ("LEFT_BEHIND",)


def _has_category(codes: tuple[str, ...]) -> Q:
    # The categories are a JSON list of codes. PostgreSQL: JSON containment (`@>`), which reads the
    # stored jsonb as it is (the text match upper-cased each row's JSON as text: 0.4 s over a district's
    # 33,000 identifications, for the worklist of every district page). SQLite, where containment is
    # not available: a quoted code matches exactly one element of the text.
    q = Q(pk__in=[])
    for code in codes:
        q |= (
            Q(categories__contains=[code])
            if connection.vendor == "postgresql"
            else Q(categories__icontains=f'"{code}"')
        )
    return q


def _identified(year: int | None = None) -> QuerySet[HardshipApplication]:
    """This school year's identifications (认定结果) of the pupil in OuterRef('pk')."""
    return HardshipApplication.objects.filter(
        student_id=OuterRef("pk"),
        status=ApplicationStatus.IDENTIFIED,
        academic_year=year if year is not None else clock.current_school_year(),
    )


def needs_pairing() -> Exists:
    """The pupil is registered poor or identified as especially difficult this school year."""
    return Exists(_identified().filter(Q(tier=Tier.SPECIAL) | _has_category(REGISTERED_POOR_CATEGORIES)))


def _current_pairing() -> QuerySet[Pairing]:
    return Pairing.objects.filter(student_id=OuterRef("pk"), ended_on__isnull=True)


@dataclass
class Coverage:
    """覆盖情况: who needs a teacher, who has none, which teachers carry more than the limit."""

    limit: int
    needing: int
    uncovered: list[Student]
    overloaded: list[tuple[User, int]] = field(default_factory=list)
    teachers: list[User] = field(default_factory=list)

    @property
    def covered(self) -> int:
        return self.needing - len(self.uncovered)


def coverage(*, user: Any, school_id: Any = None, limit_rows: int = 300) -> Coverage:
    """The district's (or school's) coverage of the pupils who need a teacher: the rules, the pupils with
    the totals, the teachers' loads, the teachers (and the overloaded ones' accounts, if any)."""
    limit = rules_current().pairing_max_pupils
    pupils = (
        Student.objects.visible_to(user, Action.PAIRING_MANAGE)
        .filter(enrollment_status=EnrollmentStatus.ATTENDING)
        .filter(needs_pairing())
    )
    if school_id:
        pupils = pupils.filter(school_id=school_id)
    # One pass over the pupils who need a teacher (the identifications they are found by are the
    # district's, read once): the unpaired first, each row carrying the totals as window counts.
    rows = list(
        pupils.annotate(paired=Exists(_current_pairing()))
        .annotate(
            needing_total=Window(Count("pk")),
            covered_total=Window(Count("pk", filter=Q(paired=True))),
        )
        .select_related("school", "grade", "klass__grade")
        .order_by("paired", "school__code", "grade__entry_year", "klass__number", "name", "pk")[:limit_rows]
    )
    counts = (
        {"needing": rows[0].needing_total, "covered": rows[0].covered_total} if rows else {"needing": 0, "covered": 0}
    )
    uncovered = [p for p in rows if not p.paired]
    loads = (
        Pairing.objects.visible_to(user, Action.PAIRING_MANAGE)
        .filter(ended_on__isnull=True)
        .values("teacher_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=limit)
    )
    if school_id:
        loads = loads.filter(school_id=school_id)
    load = {row["teacher_id"]: row["n"] for row in loads}
    teachers = list(teachers_for(user=user, school_id=school_id))
    by_id = {t.pk: t for t in User.objects.filter(pk__in=list(load))} if load else {}
    overloaded = sorted(((by_id[pk], n) for pk, n in load.items()), key=lambda row: (-row[1], row[0].username))
    result = Coverage(limit=limit, needing=counts["needing"], uncovered=uncovered, overloaded=overloaded)
    result.uncovered_total = counts["needing"] - counts["covered"]  # type: ignore[attr-defined]
    result.teachers = teachers
    return result


def coverage_counts(*, user: Any, action: Action = Action.PAIRING_MANAGE) -> dict[str, int]:
    """{"needing", "covered"}: the attending pupils the user sees (through `action`: the dashboard's, or
    the pairing's own) who need a teacher this school year, and those of them paired now. One aggregate."""
    pupils = (
        Student.objects.visible_to(user, action)
        .filter(enrollment_status=EnrollmentStatus.ATTENDING)
        .filter(needs_pairing())
        .annotate(paired=Exists(_current_pairing()))
    )
    counts = pupils.aggregate(needing=Count("pk"), covered=Count("pk", filter=Q(paired=True)))
    return {"needing": counts["needing"] or 0, "covered": counts["covered"] or 0}


def uncovered(*, user: Any) -> QuerySet[Student]:
    """The pupils the user pairs who need a teacher and have none. On PostgreSQL `needs_pairing` reads
    the partial index of care's migration 0005 (only the identifications that need a teacher)."""
    return (
        Student.objects.visible_to(user, Action.PAIRING_MANAGE)
        .filter(enrollment_status=EnrollmentStatus.ATTENDING)
        .filter(needs_pairing())
        .exclude(Exists(_current_pairing()))
    )


def uncovered_count(*, user: Any) -> int:
    """How many pupils the user pairs need a teacher and have none (the worklist's count): one query."""
    return uncovered(user=user).count()


def teachers_for(*, user: Any, school_id: Any = None) -> QuerySet[User]:
    """The teachers (class teachers) of the schools where the user pairs pupils, by name."""
    schools = School.objects.visible_to(user, Action.PAIRING_MANAGE)
    if school_id:
        schools = schools.filter(pk=school_id)
    teaching = RoleAssignment.objects.filter(role=Role.CLASS_TEACHER, school__in=schools).values("user_id")
    return User.objects.filter(pk__in=teaching, is_active=True).order_by("last_name", "first_name", "username", "pk")


def teacher_for(*, user: Any, text: Any) -> User | None:
    """An account of the user's district by id (whether it teaches where the pupils are is the
    service's question, so that it can say why not); None for a missing one or another district's."""
    try:
        return User.objects.filter(tenant_id=user.tenant_id, is_active=True, pk=text).first()
    except (ValueError, ValidationError):  # a malformed id is "not found"
        return None


def pairing_list(*, user: Any) -> QuerySet[Pairing]:
    """Current and past pairings the user sees (their units), and a teacher's own pairings."""
    mine = Q(teacher_id=user.pk) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
    seen = Pairing.objects.visible_to(user).values("pk")
    return (
        Pairing.objects.filter(Q(pk__in=seen) | (mine & Q(tenant_id=user.tenant_id)))
        .select_related("student", "teacher", "school", "klass__grade")
        .order_by("-started_on", "pk")
    )


@dataclass(frozen=True)
class PairedPupil:
    pairing: Pairing
    last_visit_on: dt.date | None
    due_on: dt.date

    @property
    def overdue(self) -> bool:
        return self.due_on < clock.today()


def my_pairings(*, user: Any) -> list[PairedPupil]:
    """The teacher's current pupils, each with the last pairing visit and when the next is due (the
    latest pairing visit's "next due", or the district's interval after the pairing began): one query."""
    if not getattr(user, "is_authenticated", False) or user.tenant_id is None:
        return []
    # Only the pairing's own visits count (an identification visit has no "next visit due").
    latest = HomeVisit.objects.filter(student_id=OuterRef("student_id"), purpose=VisitPurpose.PAIRING).order_by(
        "-visited_on", "-created_at"
    )
    rows = (
        Pairing.objects.filter(teacher_id=user.pk, tenant_id=user.tenant_id, ended_on__isnull=True)
        .select_related("student", "klass__grade", "school")
        .annotate(
            last_visit_on=Max(
                "student__home_visits__visited_on", filter=Q(student__home_visits__purpose=VisitPurpose.PAIRING)
            ),
            next_due_on=Subquery(latest.values("next_due_on")[:1]),
        )
        .order_by("student__name", "pk")
    )
    interval = dt.timedelta(days=rules_current().pairing_visit_days)
    result = [
        PairedPupil(pairing=p, last_visit_on=p.last_visit_on, due_on=p.next_due_on or (p.started_on + interval))
        for p in rows
    ]
    return sorted(result, key=lambda r: (r.due_on, r.pairing.student.name))


def visit_list(*, user: Any) -> QuerySet[HomeVisit]:
    """The visits the user sees (their units, CARE_VIEW) and those they made themselves."""
    mine = Q(visitor_id=user.pk) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
    seen = HomeVisit.objects.visible_to(user).values("pk")
    return (
        HomeVisit.objects.filter(Q(pk__in=seen) | (mine & Q(tenant_id=user.tenant_id)))
        .select_related("student", "visitor")
        .order_by("-visited_on", "-created_at", "pk")
    )


def paired_student_for(*, user: Any, pk: Any) -> Student | None:
    """A pupil the teacher is currently paired with (None otherwise, or for a malformed id)."""
    try:
        return (
            Student.objects.filter(
                pk=pk, tenant_id=user.tenant_id, pairings__teacher_id=user.pk, pairings__ended_on__isnull=True
            )
            .select_related("school", "klass__grade")
            .first()
        )
    except (ValueError, ValidationError):  # a malformed id is "not found"
        return None


# --- The watch list (重点关注名单) -----------------------------------------------------------------------

#: The risk flags of the watch list: the recorded ones, and those the identification gives.
WATCH_FLAGS = (
    ("poverty", RiskKind.POVERTY),
    ("disability", RiskKind.DISABILITY),
    ("left_behind", RiskKind.LEFT_BEHIND),
    ("distance", RiskKind.DISTANCE),
    ("learning", RiskKind.LEARNING),
)


def _risk(kind: str) -> Any:
    """The pupil in OuterRef('pk') carries this risk: a recorded flag, or (poverty, disability,
    left-behind) what this school year's identification says."""
    flag = Exists(RiskFlag.objects.filter(student_id=OuterRef("pk"), kind=kind))
    identified = _identified()
    derived = {
        RiskKind.POVERTY: Q(tier__in=[Tier.DIFFICULT, Tier.SPECIAL]),
        RiskKind.DISABILITY: _has_category(DISABILITY_CATEGORIES),
        RiskKind.LEFT_BEHIND: _has_category(LEFT_BEHIND_CATEGORIES),
    }
    return flag | Exists(identified.filter(derived[kind])) if kind in derived else flag


def _on_watch_list() -> Any:
    """Any of the risks of `_risk`, in two tests instead of eight: a recorded flag of any kind (the
    flags' kinds are the watch list's), or an identification of this school year with a difficulty
    tier or a disability or left-behind category."""
    reasons = Q(tier__in=[Tier.DIFFICULT, Tier.SPECIAL]) | _has_category(DISABILITY_CATEGORIES + LEFT_BEHIND_CATEGORIES)
    return Exists(RiskFlag.objects.filter(student_id=OuterRef("pk"))) | Exists(_identified().filter(reasons))


def _watch_candidates() -> QuerySet[Any]:
    """The ids of the pupils with any risk of `_on_watch_list`, from the flags and this year's
    identifications (a union: for a district, 16,000 of 100,000 pupils are looked up, not all tested)."""
    reasons = Q(tier__in=[Tier.DIFFICULT, Tier.SPECIAL]) | _has_category(DISABILITY_CATEGORIES + LEFT_BEHIND_CATEGORIES)
    identified = HardshipApplication.objects.filter(
        status=ApplicationStatus.IDENTIFIED, academic_year=clock.current_school_year()
    ).filter(reasons)
    return RiskFlag.objects.values("student_id").union(identified.values("student_id"), all=True)


def _may_be_paired(user: Any) -> bool:
    """Whether the user teaches a class (only class teachers are paired with pupils: `teachers_for`)."""
    return any(a.role == Role.CLASS_TEACHER for a in permissions.assignments(user))


def _pk_among(ids: QuerySet[Any]) -> Q:
    """The row's pk is one of `ids`. On PostgreSQL `id = ANY(ARRAY(SELECT …))`: the ids are read once
    and the test is indexable, so an OR of it and a class's or school's pupils reads both through
    indexes (a plain `IN (SELECT …)` in an OR is tested row by row, over every pupil of the district)."""
    if connection.vendor != "postgresql":
        return Q(pk__in=ids)
    equals_any = Func(
        F("pk"), ArraySubquery(ids), arg_joiner=" = ANY(", template="%(expressions)s)", output_field=BooleanField()
    )
    return Q(equals_any)


def watch_pupils(*, user: Any, counting: bool = False) -> QuerySet[Student]:
    """重点关注名单: the attending pupils at risk of dropping out (seed 003's risk points) the user looks
    after: their units' pupils and, for a teacher, their paired pupils. A pupil is on it for a recorded
    risk flag, a difficulty tier identified this school year (困难 or 特别困难), or a disability or
    left-behind category. `watch_page_rows` adds what a page shows.

    Grouped by school and class, by name within a class, in the pupil's own keys (school, class, name,
    pk) as the student list is: the (tenant, school, class) index serves the order, so a page tests
    the pupils of a class or two and stops, instead of every pupil of the district (or the school)
    before sorting them by school code and class number. The scope is a plain condition on the pupil,
    and a teacher's paired pupils (in other classes) join it through `_pk_among`.

    `counting`: the same pupils to be counted; for a district's, found from the candidates' ids
    (`_watch_candidates`) instead. Testing each of a district's pupils is planned at a cost high enough
    for PostgreSQL to compile the query first (JIT: 0.7 s of 0.9 s); the union is planned at a
    fiftieth of it. A school's or a class's pupils are fewer than the candidates: tested one by one."""
    scope = permissions.scope_q(user, Action.CARE_VIEW, Student)
    whole_district = scope == Q(tenant_id=user.tenant_id)
    if _may_be_paired(user) and not whole_district:
        paired = Pairing.objects.filter(teacher_id=user.pk, tenant_id=user.tenant_id, ended_on__isnull=True)
        scope |= _pk_among(paired.values("student_id"))
    pupils = Student.objects.filter(scope).filter(enrollment_status=EnrollmentStatus.ATTENDING)
    if counting and whole_district:
        return pupils.filter(pk__in=_watch_candidates())
    return (
        pupils.filter(_on_watch_list())
        .select_related("school", "klass__grade")
        .order_by("school_id", "klass_id", "name", "pk")
    )


def watch_reasons(pupils: QuerySet[Student]) -> QuerySet[Student]:
    """The pupils with each risk (`risk_<name>`) and whether a dropout case is open (`open_case`)."""
    return pupils.annotate(
        **{f"risk_{name}": _risk(kind) for name, kind in WATCH_FLAGS},
        open_case=Exists(DropoutCase.objects.filter(student_id=OuterRef("pk"), status__in=OPEN_STATES)),
    )


def _with_risk_labels(pupils: Iterable[Student]) -> list[Student]:
    """The rows of `watch_reasons` with their risks' labels (`risks`), in the order of WATCH_FLAGS."""
    labels = dict(RiskKind.choices)
    result = list(pupils)
    for pupil in result:
        pupil.risks = [labels[kind] for name, kind in WATCH_FLAGS if getattr(pupil, f"risk_{name}")]
    return result


def watch_page_rows(pupils: Iterable[Student]) -> list[Student]:
    """A page of `watch_pupils` with each pupil's risks (`risks`, labels) and open case (`open_case`):
    one query for the page's pupils. Read apart from the page's own query, because PostgreSQL plans
    the reasons' subqueries for every row the page's query reads (hashing the district's
    identifications once per risk) even though it works them out only for the rows it returns."""
    rows = list(pupils)
    if not rows:
        return rows
    reasons = {
        r["pk"]: r
        for r in watch_reasons(Student.objects.filter(pk__in=[p.pk for p in rows])).values(
            "pk", "open_case", *(f"risk_{name}" for name, _kind in WATCH_FLAGS)
        )
    }
    for pupil in rows:
        for key, value in reasons[pupil.pk].items():
            setattr(pupil, key, value)
    return _with_risk_labels(rows)


def watch_list(*, user: Any, limit_rows: int = 500) -> list[Student]:
    """The first `limit_rows` pupils of the watch list with their risks: one query."""
    return _with_risk_labels(watch_reasons(watch_pupils(user=user))[:limit_rows])


def watch_risk_filter(pupils: QuerySet[Student], kind: str) -> QuerySet[Student]:
    """The pupils who carry the risk `kind` (the list's risk filter)."""
    return pupils.filter(_risk(kind))


# --- The student's file (一生一档): care's part -------------------------------------------------------------


def student_file_section(*, user: Any, student: Student) -> dict[str, Any] | None:
    """What care adds to the pupil's file: dropout cases, home visits of every kind, the pairing, the
    risk flags. None for a user who does not see care's rows. Four queries."""
    from schools import permissions

    if (
        not permissions.can(user, Action.CARE_VIEW, student)
        and not Pairing.objects.filter(student=student, teacher_id=user.pk, ended_on__isnull=True).exists()
    ):
        return None
    return {
        "cases": list(DropoutCase.objects.filter(student=student).order_by("-opened_on", "pk")),
        "visits": list(
            HomeVisit.objects.filter(student=student)
            .select_related("visitor")
            .order_by("-visited_on", "-created_at", "pk")
        ),
        "pairings": list(
            Pairing.objects.filter(student=student).select_related("teacher").order_by("-started_on", "pk")
        ),
        "flags": list(RiskFlag.objects.filter(student=student).order_by("kind", "pk")),
        "can_flag": permissions.can(user, Action.RISK_FLAG_SET, student),
        "risk_kinds": RiskKind.choices,
        "student_pk": student.pk,
        "paired_with_me": Pairing.objects.filter(student=student, teacher_id=user.pk, ended_on__isnull=True).exists(),
    }
