"""The register's list filters (django-filter), and the pupil search every list about pupils shares."""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core.clock import school_year_choices
from core.crypto import ID_TAIL as ID_TAIL_SHOWN
from core.crypto import blind_index, tail_index
from core.listing import ListFilterSet, SortFilter, StatusFilter
from schools.models import School

from . import idcard
from .models import ApplicationStatus, EnrollmentStatus, HardshipApplication, Publicity, PublicityStatus, Student, Tier

#: The search box of every list of pupils.
PUPIL_SEARCH_LABEL = _("Name, registration or ID number")


#: The last digits of an ID number the search box accepts: four (what the masked number shows) or six.
ID_TAIL = re.compile(r"^\d{3}(?:\d{2})?[\dXx]$")


class SearchRefused(Exception):
    """The search names something this person may not search by; the message says why."""


def pupil_search(qs: QuerySet[Any], text: str, *, prefix: str = "", user: Any = None) -> QuerySet[Any]:
    """Rows whose pupil (at `prefix`, e.g. "student__") has the name fragment, or exactly the
    registration number or ID number, found through their blind indexes: the numbers are stored only
    encrypted, so they are matched whole, never by fragment, except the last digits of the ID number.

    The last four characters of an ID number (the ones its masked form shows everyone who sees the
    pupil) go through their own keyed index (`id_tail_hash`). Six are beyond the mask: only a role that
    may see full numbers (`STUDENT_VIEW_PII`) searches by them, and for anyone else `SearchRefused`
    says so. The six are checked against the few pupils sharing the last four (one in 10,000), whose
    numbers are decrypted in memory: one small query, no index of six digits to keep."""
    text = (text or "").strip()
    if not text:
        return qs
    looks_like_id = len(text) == 18 and text[:17].isdigit()
    if looks_like_id or idcard.is_valid(text):
        return qs.filter(**{f"{prefix}id_number_hash": blind_index(text, kind="id_number")})
    if ID_TAIL.match(text):
        return _id_tail_search(qs, text.upper(), prefix=prefix, user=user)
    match = Q(**{f"{prefix}name__contains": text})
    if any(c.isdigit() for c in text):
        match |= Q(**{f"{prefix}student_no_hash": blind_index(text, kind="student_no")})
    return qs.filter(match)


def _id_tail_search(qs: QuerySet[Any], tail: str, *, prefix: str, user: Any) -> QuerySet[Any]:
    from schools import permissions
    from schools.permissions import Action

    last4 = Q(**{f"{prefix}id_tail_hash": tail_index(tail, kind="id_number")})
    if len(tail) == ID_TAIL_SHOWN:
        return qs.filter(last4)
    if user is None or not permissions.can(user, Action.STUDENT_VIEW_PII):
        raise SearchRefused(
            _(
                "Only the last four digits of an ID number can be searched here (the ones the masked number "
                "shows); searching by more of them is for those who may see full ID numbers."
            )
        )
    candidates = Student.objects.visible_to(user).filter(id_tail_hash=tail_index(tail, kind="id_number"))
    found = [pk for pk, number in candidates.values_list("pk", "id_number") if number.reveal().upper().endswith(tail)]
    return qs.filter(**{f"{prefix}pk__in": found})


def visible_schools(user: Any) -> QuerySet[School]:
    """The schools a list may be filtered by: those the user sees."""
    return School.objects.visible_to(user).order_by("code", "pk")


class PupilSearch(django_filters.CharFilter):
    """The search box over pupils, at `prefix` of the list's rows."""

    def __init__(self, *, prefix: str = "", **kwargs: Any) -> None:
        self.prefix = prefix
        kwargs.setdefault("label", PUPIL_SEARCH_LABEL)
        kwargs.setdefault("max_length", 50)
        super().__init__(**kwargs)

    def filter(self, qs: Any, value: Any) -> Any:
        try:
            return pupil_search(qs, value, prefix=self.prefix, user=self.parent.user)
        except SearchRefused as refusal:
            self.parent.search_refusal = refusal.args[0]  # shown above the list (includes/list_bar.html)
            return qs.none()


class StudentListFilter(ListFilterSet):
    """学籍名册: search, school, grade and class (from the school pages' links), status tabs."""

    search_label = PUPIL_SEARCH_LABEL
    status_field = "enrollment_status"
    status_choices = EnrollmentStatus.choices

    q = PupilSearch()
    school = django_filters.ModelChoiceFilter(label=_("School"), queryset=visible_schools, empty_label=_("All schools"))
    grade = django_filters.UUIDFilter(field_name="grade_id", widget=forms.HiddenInput)
    klass = django_filters.UUIDFilter(field_name="klass_id", widget=forms.HiddenInput)
    gender = django_filters.ChoiceFilter(label=_("Gender"), choices=Student._meta.get_field("gender").choices)
    status = StatusFilter()
    sort = SortFilter(fields=(("name", "name"), ("school__code", "school"), ("klass__number", "class")))

    class Meta:
        model = Student
        fields: list[str] = []


class ApplicationListFilter(ListFilterSet):
    """认定申请 (the review queue): search, school, year, proposed tier; tabs "waiting for me" and by step;
    `status=review` (the district's "in review" by school) is the three steps inside the school."""

    search_label = PUPIL_SEARCH_LABEL
    status_field = "status"
    status_choices = ApplicationStatus.choices
    status_groups = (
        (
            "review",
            _("In review"),
            (ApplicationStatus.CLASS_EVALUATION, ApplicationStatus.GRADE_REVIEW, ApplicationStatus.SCHOOL_REVIEW),
        ),
    )

    q = PupilSearch(prefix="student__")
    school = django_filters.ModelChoiceFilter(label=_("School"), queryset=visible_schools, empty_label=_("All schools"))
    academic_year = django_filters.ChoiceFilter(
        label=_("School year"), choices=school_year_choices, empty_label=_("All school years")
    )
    proposed_tier = django_filters.ChoiceFilter(label=_("Proposed tier"), choices=Tier.choices)
    klass = django_filters.UUIDFilter(field_name="klass_id", widget=forms.HiddenInput)
    #: `returned=1`: nominations sent back to the class (the teacher's home page links here).
    returned = django_filters.BooleanFilter(widget=forms.HiddenInput, method="returned_to_class")
    status = StatusFilter()
    sort = SortFilter(
        fields=(
            ("student__name", "name"),
            ("school__code", "school"),
            ("klass__number", "class"),
            ("proposed_tier", "tier"),
        )
    )

    class Meta:
        model = HardshipApplication
        fields: list[str] = []

    def extra_tabs(self) -> list[tuple[str, Any, Q]]:
        from .identification.selectors import waiting_q

        return [("mine", _("Waiting for me"), waiting_q(user=self.user))]

    def returned_to_class(self, qs: Any, _name: str, value: bool | None) -> Any:
        from .identification.selectors import returned_to_class

        return returned_to_class(qs) if value else qs


class PublicityListFilter(ListFilterSet):
    """公示: search by title, school, school year; tabs by state."""

    search_label = _("Title")
    status_field = "status"
    status_choices = PublicityStatus.choices

    q = django_filters.CharFilter(field_name="title", lookup_expr="contains", label=_("Title"), max_length=50)
    school = django_filters.ModelChoiceFilter(label=_("School"), queryset=visible_schools, empty_label=_("All schools"))
    academic_year = django_filters.ChoiceFilter(
        label=_("School year"), choices=school_year_choices, empty_label=_("All school years")
    )
    status = StatusFilter()
    sort = SortFilter(
        fields=(("title", "title"), ("school__code", "school"), ("ends_on", "until"), ("created_at", "created"))
    )

    class Meta:
        model = Publicity
        fields: list[str] = []
