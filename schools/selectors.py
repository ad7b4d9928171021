"""Reads of the school structure, scoped to what the user may see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Count, QuerySet

from . import permissions
from .models import ApiToken, Grade, Job, JobStatus, RoleAssignment, School, SchoolClass, User
from .permissions import Action

#: Counts the pupils of each school or class the user may see ({unit id: count}). The register lives in
#: the students app, above this one, so it registers its counter here when ready (students.apps) and
#: the school pages ask without importing it. Without one (the students app not installed): no counts.
StudentCounter = Callable[..., dict[Any, int]]
_student_counter: list[StudentCounter] = []


def register_student_counter(counter: StudentCounter) -> None:
    _student_counter[:] = [counter]


def student_counts(*, user: Any, by: str) -> dict[Any, int]:
    """{school or class id: number of visible attending pupils}; `by` is "school" or "klass"."""
    return _student_counter[0](user=user, by=by) if _student_counter else {}


def school_list(*, user: Any) -> QuerySet[School]:
    """The user's visible schools with their numbers of grades and classes, by code."""
    return (
        School.objects.visible_to(user)
        .annotate(grade_count=Count("grades", distinct=True), class_count=Count("classes", distinct=True))
        .order_by("code", "pk")
    )


def grade_list(*, user: Any, school: School | None = None) -> QuerySet[Grade]:
    qs = Grade.objects.visible_to(user).select_related("school")
    if school is not None:
        qs = qs.filter(school=school)
    return qs.order_by("school__code", "stage", "-entry_year", "pk")


def class_list(*, user: Any, school: School | None = None, grade: Grade | None = None) -> QuerySet[SchoolClass]:
    qs = SchoolClass.objects.visible_to(user).select_related("school", "grade")
    if school is not None:
        qs = qs.filter(school=school)
    if grade is not None:
        qs = qs.filter(grade=grade)
    return qs.order_by("school__code", "grade__stage", "-grade__entry_year", "number", "pk")


def user_list(*, user: Any) -> QuerySet[User]:
    return User.objects.visible_to(user).order_by("username", "pk")


def assignment_list(*, user: Any, of_user: User | None = None) -> QuerySet[RoleAssignment]:
    qs = RoleAssignment.objects.visible_to(user, Action.USER_MANAGE).select_related(
        "user", "school", "grade", "klass__grade"
    )
    if of_user is not None:
        qs = qs.filter(user=of_user)
    return qs.order_by("user__username", "role", "pk")


def job_list(*, user: Any, kind: str, limit: int = 10) -> QuerySet[Job]:
    """The user's latest jobs of one kind (imports, reconciliations), newest first."""
    return Job.objects.visible_to(user).filter(kind=kind).order_by("-created_at", "-pk")[:limit]


def api_token_list(*, user: Any) -> QuerySet[ApiToken]:
    """The user's own API tokens (expired ones too, until revoked), newest first."""
    return ApiToken.objects.select_related("token").filter(token__user=user).order_by("-created_at", "-pk")


def api_token_list_for_tenant(*, user: Any) -> QuerySet[ApiToken]:
    """Every API token of the accounts of the user's tenant, if the user manages its accounts (the tenant
    administrator); none otherwise, and never another tenant's."""
    if not permissions.can(user, Action.USER_MANAGE):  # no one without a tenant manages accounts
        return ApiToken.objects.none()
    return (
        ApiToken.objects.select_related("token__user")
        .filter(token__user__tenant_id=user.tenant_id)
        .order_by("token__user__username", "-created_at", "-pk")
    )


def jobs_in_progress(*, user: Any, limit: int = 10) -> QuerySet[Job]:
    """The user's visible jobs still queued or running (imports, runs, batch builds), oldest first."""
    return (
        Job.objects.visible_to(user)
        .filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        .order_by("created_at", "pk")[:limit]
    )
