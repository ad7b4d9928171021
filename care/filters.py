"""The dropout-control pages' list filters (django-filter): the cases, the watch list."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.listing import ListFilterSet, SortFilter, StatusFilter
from students.filters import PUPIL_SEARCH_LABEL, PupilSearch, visible_schools
from students.models import Student

from . import selectors
from .models import OPEN_STATES, CaseStatus, DropoutCase, RiskKind
from .pairing.selectors import watch_risk_filter


class CaseFilter(ListFilterSet):
    """控辍保学 cases: the pupil, school, class (from links), home visit due; tabs by state."""

    search_label = PUPIL_SEARCH_LABEL
    status_field = "status"
    status_choices = CaseStatus.choices
    status_groups = (("open", _("Open cases"), tuple(OPEN_STATES)),)  # the district's open cases by school

    q = PupilSearch(prefix="student__")
    school = django_filters.ModelChoiceFilter(label=_("School"), queryset=visible_schools, empty_label=_("All schools"))
    klass = django_filters.UUIDFilter(field_name="klass_id", widget=forms.HiddenInput)
    visit = django_filters.ChoiceFilter(
        label=_("Home visit"), choices=[("due", _("Home visit due"))], empty_label=_("All"), method="visit_due"
    )
    status = StatusFilter()
    sort = SortFilter(fields=(("student__name", "name"), ("opened_on", "opened"), ("absent_days", "days")))

    class Meta:
        model = DropoutCase
        fields: list[str] = []

    def visit_due(self, qs: Any, _name: str, value: str) -> Any:
        return selectors.cases_visit_due(qs) if value == "due" else qs


class WatchFilter(ListFilterSet):
    """重点关注名单: the pupil, school, class (from links), one risk."""

    search_label = PUPIL_SEARCH_LABEL

    q = PupilSearch()
    school = django_filters.ModelChoiceFilter(label=_("School"), queryset=visible_schools, empty_label=_("All schools"))
    klass = django_filters.UUIDFilter(field_name="klass_id", widget=forms.HiddenInput)
    risk = django_filters.ChoiceFilter(
        label=_("Risk"), choices=RiskKind.choices, empty_label=_("All risks"), method="with_risk"
    )

    class Meta:
        model = Student
        fields: list[str] = []

    def with_risk(self, qs: Any, _name: str, value: str) -> Any:
        return watch_risk_filter(qs, value) if value else qs
