"""The funding pages' list filters (django-filter)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.listing import ListFilterSet, SortFilter, StatusFilter
from students.filters import visible_schools

from .models import AwardList, AwardListStatus, Program


def visible_programs(user: Any) -> QuerySet[Program]:
    """The programs a list may be filtered by."""
    return Program.objects.visible_to(user).order_by("sort_order", "code")


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
    status = StatusFilter()
    sort = SortFilter(fields=(("school__code", "school"), ("program__sort_order", "program")))

    class Meta:
        model = AwardList
        fields: list[str] = []
