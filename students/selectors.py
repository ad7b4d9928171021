"""Reads of the student register, scoped to the user's role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, QuerySet

from core.crypto import blind_index

from . import idcard
from .models import Student

#: Sections a higher floor adds to the student's file (一生一档): (template, provider), the provider taking
#: (user, student) and returning the template's context, or None when the user sees none of it. Filled in
#: `apps.ready` (care: cases, visits, pairing, risk flags), since students may not import those apps.
FileSection = tuple[str, Callable[..., dict[str, Any] | None]]
_file_sections: list[FileSection] = []


def register_file_section(template: str, provider: Callable[..., dict[str, Any] | None]) -> None:
    if all(t != template for t, _p in _file_sections):
        _file_sections.append((template, provider))


def file_sections(*, user: Any, student: Student) -> list[dict[str, Any]]:
    """The registered sections of the pupil's file that the user sees: [{"template", "data"}]."""
    found = []
    for template, provider in _file_sections:
        data = provider(user=user, student=student)
        if data is not None:
            found.append({"template": template, "data": data})
    return found


@dataclass(frozen=True)
class StudentFilter:
    school_id: Any = None
    grade_id: Any = None
    klass_id: Any = None
    status: str = ""
    q: str = ""


def student_list(*, user: Any, filters: StudentFilter | None = None) -> QuerySet[Student]:
    """Students the user may see, filtered, grouped by school and class, by name within a class.

    The order is the pupil's own keys (school, class, name, pk), so the (tenant, school, class) index
    serves it and a page of 50 reads about 50 rows instead of sorting the district's 100,000 across
    joins: schools and classes follow each other in key order, not by code and number (the school and
    class are on every row, and the filters pick one).

    `q` is a name fragment, or an ID number, found by its blind index (exact match only: the number
    itself is never stored in clear, so it cannot be searched by fragment).
    """
    f = filters or StudentFilter()
    qs = Student.objects.visible_to(user).select_related("school", "grade", "klass__grade")
    if f.school_id:
        qs = qs.filter(school_id=f.school_id)
    if f.grade_id:
        qs = qs.filter(grade_id=f.grade_id)
    if f.klass_id:
        qs = qs.filter(klass_id=f.klass_id)
    if f.status:
        qs = qs.filter(enrollment_status=f.status)
    q = (f.q or "").strip()
    if q:
        looks_like_id = len(q) == 18 and q[:17].isdigit()
        if looks_like_id or idcard.is_valid(q):
            qs = qs.filter(id_number_hash=blind_index(q, kind="id_number"))
        else:
            qs = qs.filter(name__contains=q)
    return qs.order_by("school_id", "klass_id", "name", "pk")


#: How long the pupil counts of the school pages and the home page may lag the register, in seconds.
STUDENT_COUNTS_TTL = 30


def student_counts(*, user: Any, by: str) -> dict[Any, int]:
    """{school or class id: number of visible attending students}, in one query at most every
    STUDENT_COUNTS_TTL seconds per user; `by` is "school" or "klass".

    Counting a district's 100,000 pupils costs about 50 ms of the database on every view of the school
    list (docs/benchmarks.md, "List pages under load"); an overview may lag an import by half a minute.
    The key names the user (whose scope decides which pupils count) and their tenant."""
    key = f"students:counts:{user.tenant_id}:{user.pk}:{by}"
    counts = cache.get(key)
    if counts is None:
        counts = _student_counts(user=user, by=by)
        cache.set(key, counts, STUDENT_COUNTS_TTL)
    return counts


def _student_counts(*, user: Any, by: str) -> dict[Any, int]:
    column = {"school": "school_id", "klass": "klass_id"}[by]
    rows = (
        Student.objects.visible_to(user)
        .filter(enrollment_status="ATTENDING")
        .values(column)
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {r[column]: r["n"] for r in rows}
