"""Reads of applications and publicity lists, scoped to the user's role."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate

from schools import permissions
from schools.permissions import Action

from ..models import (
    ApplicationDecision,
    ApplicationStatus,
    Decision,
    EnrollmentStatus,
    HardshipApplication,
    Objection,
    ObjectionStatus,
    Publicity,
    PublicityStatus,
    Student,
    TierAdjustment,
    TierAdjustmentStatus,
)
from ..models.identification import LIVE_STATES

S = ApplicationStatus

#: The step each reviewing action decides (what "waiting for me" means).
QUEUE_OF = {
    Action.APPLICATION_CLASS_REVIEW: S.CLASS_EVALUATION,
    Action.APPLICATION_GRADE_REVIEW: S.GRADE_REVIEW,
    Action.APPLICATION_SCHOOL_REVIEW: S.SCHOOL_REVIEW,
    Action.APPLICATION_DISTRICT_REVIEW: S.DISTRICT_REVIEW,
}


def review_queues(*, user: Any) -> list[tuple[Action, str]]:
    """(action, status) of the steps this user reviews."""
    return [(action, status) for action, status in QUEUE_OF.items() if permissions.can(user, action)]


def application_list(
    *, user: Any, status: str = "", klass_id: Any = None, academic_year: int | None = None, q: str = ""
) -> QuerySet[HardshipApplication]:
    qs = HardshipApplication.objects.visible_to(user).select_related("student", "school", "grade", "klass__grade")
    if status:
        qs = qs.filter(status=status)
    if klass_id:
        qs = qs.filter(klass_id=klass_id)
    if academic_year:
        qs = qs.filter(academic_year=academic_year)
    if q:
        qs = qs.filter(student__name__contains=q)
    return qs.order_by("school__code", "grade__stage", "-grade__entry_year", "klass__number", "student__name", "pk")


def waiting_for(*, user: Any) -> QuerySet[HardshipApplication]:
    """Applications at a step this user decides, in their units."""
    return application_list(user=user).filter(waiting_q(user=user))


def waiting_q(*, user: Any) -> Q:
    """The condition of "waiting for me": at a step this user decides, in the units of that step's
    role (matches nothing for someone who decides no step)."""
    scoped = Q(pk__in=[])
    for action, status in review_queues(user=user):
        # The step's scope as a condition on the row itself (its school, grade or class), not as "id in
        # (the rows in scope)": the list's tabs count under this condition, and each such semi-join
        # hashed every application of the district (half of the review list's time at 33,000).
        scoped |= Q(status=status) & permissions.scope_q(user, action, HardshipApplication)
    return scoped


def application_detail(*, application: HardshipApplication) -> HardshipApplication:
    """One application with its story loaded (decisions with their actors, attachments, adjustments)."""
    return (
        HardshipApplication.objects.select_related("student", "school", "grade", "klass", "nominated_by")
        .prefetch_related(
            Prefetch(
                "decisions",
                # A migrated step is dated by the earlier system's list (decided_on), not by the moment
                # of the import that wrote it with its siblings.
                queryset=ApplicationDecision.objects.select_related("actor").order_by(
                    Coalesce("decided_on", TruncDate("created_at")), "created_at", "pk"
                ),
            ),
            "attachments",
            Prefetch(
                "adjustments",
                queryset=TierAdjustment.objects.select_related("proposed_by", "decided_by").order_by("created_at"),
            ),
            Prefetch("objections", queryset=Objection.objects.order_by("received_on", "pk")),
        )
        .get(pk=application.pk)
    )


def publicity_list(*, user: Any) -> QuerySet[Publicity]:
    """The publicity lists the user sees, newest first, with their numbers of pupils and open objections."""
    return publicity_counted(publicity_rows(user=user))


def publicity_rows(*, user: Any) -> QuerySet[Publicity]:
    """The publicity lists the user sees, newest first (the list page filters these)."""
    return Publicity.objects.visible_to(user).select_related("school").order_by("-created_at", "pk")


def publicity_counted(qs: QuerySet[Publicity]) -> QuerySet[Publicity]:
    """`qs` with each list's number of pupils and of open objections."""
    return qs.annotate(
        entry_count=Count("entries", distinct=True),
        open_objections=Count("objections", filter=Q(objections__status=ObjectionStatus.OPEN), distinct=True),
    )


def publicity_detail(*, publicity: Publicity) -> Publicity:
    return (
        Publicity.objects.select_related("school", "created_by", "signed_by", "published_by")
        .prefetch_related(
            "entries__application__student", "entries__application__grade", "objections__application__student"
        )
        .get(pk=publicity.pk)
    )


def lists_to_sign(*, user: Any) -> QuerySet[Publicity]:
    return Publicity.objects.visible_to(user, Action.PUBLICITY_SIGN).filter(status=PublicityStatus.DRAFT)


def adjustments_to_decide(*, user: Any) -> QuerySet[TierAdjustment]:
    return TierAdjustment.objects.visible_to(user, Action.TIER_ADJUST_DECIDE).filter(
        status=TierAdjustmentStatus.PROPOSED
    )


def nomination_refusal(*, student: Student, academic_year: int) -> str:
    """Why this student cannot be nominated for the academic year, or "" if they can: the two rules of
    the nomination service that depend on the student (attending school; no live application of the
    year), asked before the teacher fills the form rather than after."""
    from .workflow import MSG_LIVE, MSG_NOT_ATTENDING

    if student.enrollment_status != EnrollmentStatus.ATTENDING:
        return str(MSG_NOT_ATTENDING)
    # The whole tenant, not only what the user sees: the uniqueness it mirrors is tenant-wide.
    live = HardshipApplication.objects.filter(student=student, academic_year=academic_year, status__in=LIVE_STATES)
    if live.exists():
        return str(MSG_LIVE)
    return ""


def student_file(*, user: Any, student: Student) -> dict[str, Any]:
    """一生一档: everything recorded about one student that the user may see."""
    applications = [
        application_detail(application=a)
        for a in HardshipApplication.objects.visible_to(user)
        .filter(student=student)
        .order_by("-academic_year", "-created_at")
    ]
    return {
        "status_changes": list(student.status_changes.order_by("-changed_on", "-created_at")),
        "guardians": list(student.guardians.order_by("position")),
        "applications": applications,
    }


#: The steps a whole class is recorded for on one page: the action that records, the state it is
#: recorded in.
CLASS_STEPS = {
    "class": (Action.APPLICATION_CLASS_REVIEW, S.CLASS_EVALUATION),  # 班级评议 and the home visit
    "village": (Action.APPLICATION_SCHOOL_REVIEW, S.SCHOOL_REVIEW),  # 村委会确认
}
#: Rows of the class-step page (a class is far fewer; a school's whole list is asked for by class).
CLASS_STEP_ROWS = 300


def applications_at_step(*, user: Any, step: str, klass_id: Any = None) -> QuerySet[HardshipApplication]:
    """The applications waiting at `step` that the user records it for, by class and pupil."""
    action, status = CLASS_STEPS[step]
    qs = (
        HardshipApplication.objects.visible_to(user, action)
        .filter(status=status)
        .select_related("student", "school", "grade", "klass")
    )
    if klass_id:
        qs = qs.filter(klass_id=klass_id)
    return qs.order_by("school__code", "grade__stage", "-grade__entry_year", "klass__number", "student__name", "pk")


def returned_to_class(qs: QuerySet[HardshipApplication]) -> QuerySet[HardshipApplication]:
    """The applications of `qs` a reviewer sent back to the class (退回): at class evaluation again, with
    a return among their decisions (the list's `returned=1` and the teacher's home page count both)."""
    returned = ApplicationDecision.objects.filter(application_id=OuterRef("pk"), decision=Decision.RETURN)
    return qs.filter(status=S.CLASS_EVALUATION).filter(Exists(returned))


def returned_to_class_count(*, user: Any) -> int:
    """Nominations returned to the class in the user's units. One query."""
    return returned_to_class(HardshipApplication.objects.visible_to(user, Action.APPLICATION_CLASS_REVIEW)).count()


def publicities_in_progress(*, user: Any) -> QuerySet[Publicity]:
    """Publicity lists now public (公示中), soonest end first, for the home page."""
    return (
        Publicity.objects.visible_to(user)
        .filter(status=PublicityStatus.PUBLIC)
        .select_related("school")
        .order_by("ends_on", "pk")
    )


def open_steps_by_school(*, user: Any, academic_year: int | None = None) -> dict[Any, dict[str, int]]:
    """{school id: {status: applications}} of the user's units (the home page's queue by step and the
    district's tasks by school): one grouped query."""
    qs = HardshipApplication.objects.visible_to(user)
    if academic_year:
        qs = qs.filter(academic_year=academic_year)
    out: dict[Any, dict[str, int]] = {}
    # COUNT(*), not COUNT(id): the id is not in the (tenant, year, school, status) index, which then
    # answers alone.
    for school_id, status, n in qs.order_by().values_list("school_id", "status").annotate(n=Count("*")):
        out.setdefault(school_id, {})[status] = n
    return out
