"""The funding pages' list filters (django-filter)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.listing import ListFilterSet, SortFilter, StatusFilter
from students.filters import visible_schools

from .models import AwardList, AwardListStatus, Program, Semester


def visible_programs(user: Any) -> QuerySet[Program]:
    """The programs a list may be filtered by."""
    return Program.objects.visible_to(user).order_by("sort_order", "code")


def visible_semesters(user: Any) -> QuerySet[Semester]:
    """The semesters a list may be filtered by."""
    return Semester.objects.visible_to(user).order_by("-academic_year", "-term", "pk")


class AwardListFilter(ListFilterSet):
    """资助名单 of the semester in use: school (by name or the select), program; tabs by state."""

    search_label = _("School")
    status_field = "status"
    status_choices = AwardListStatus.choices

    q = django_filters.CharFilter(field_name="school__name", lookup_expr="contains", label=_("School"), max_length=50)
    school = django_filters.ModelChoiceFilter(label=_("School"), queryset=visible_schools, empty_label=_("All schools"))
    program = django_filters.ModelChoiceFilter(
        label=_("Program"), queryset=visible_programs, empty_label=_("All programs")
    )
    #: `ended=1`: publicity over, waiting for the district's approval (the worklist's "to approve").
    ended = django_filters.BooleanFilter(widget=forms.HiddenInput, method="publicity_ended")
    status = StatusFilter()
    sort = SortFilter(fields=(("school__code", "school"), ("program__sort_order", "program")))

    class Meta:
        model = AwardList
        fields: list[str] = []

    def publicity_ended(self, qs: Any, _name: str, value: bool | None) -> Any:
        if not value:
            return qs
        return qs.filter(status=AwardListStatus.PUBLICITY, ends_on__lt=timezone.localdate())
