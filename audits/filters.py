"""The oversight pages' list filters (django-filter): department lists and reconciliation runs."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.listing import ListFilterSet, SortFilter, StatusFilter
from funding.models import Semester

from .models import (
    AuditEvent,
    Finding,
    FindingKind,
    ReasonCode,
    ReconciliationRun,
    RegistrySnapshot,
    RegistrySource,
    RunStatus,
)


def visible_semesters(user: Any) -> QuerySet[Semester]:
    return Semester.objects.visible_to(user).order_by("-academic_year", "-term", "pk")


class SnapshotFilter(ListFilterSet):
    """部门名单 snapshots: by file name; tabs by department."""

    search_label = _("File")
    status_field = "source"
    status_choices = RegistrySource.choices

    q = django_filters.CharFilter(field_name="file_name", lookup_expr="contains", label=_("File"), max_length=100)
    status = StatusFilter()
    sort = SortFilter(fields=(("taken_on", "as_of"), ("file_name", "file"), ("rows_valid", "rows")))

    class Meta:
        model = RegistrySnapshot
        fields: list[str] = []


class RunFilter(ListFilterSet):
    """比对 runs: by semester; tabs by state."""

    status_field = "status"
    status_choices = RunStatus.choices

    semester = django_filters.ModelChoiceFilter(
        label=_("Semester"), queryset=visible_semesters, empty_label=_("All semesters")
    )
    status = StatusFilter()
    sort = SortFilter(fields=(("created_at", "when"),))

    class Meta:
        model = ReconciliationRun
        fields: list[str] = []


class FindingListFilter(ListFilterSet):
    """A run's lists (比对结果): which lists, the reason, the school. The counts per list are the run's
    own (computed once by the run), so this filter has no tabs."""

    kind = django_filters.MultipleChoiceFilter(label=_("List"), choices=FindingKind.choices)
    reason = django_filters.ChoiceFilter(label=_("Reason"), choices=ReasonCode.choices)
    school = django_filters.UUIDFilter(field_name="school_id", label=_("School"))

    class Meta:
        model = Finding
        fields: list[str] = []


class EventFilter(ListFilterSet):
    """The audit trail page: one kind of event (`action`), one item's history (`object`), and the events
    from a moment on (`since`, an ISO time, included: the auditor's "since your last visit" and the
    worklist's "today" link here). Codes are matched exactly, as they are stored."""

    action = django_filters.CharFilter(max_length=64)
    object = django_filters.CharFilter(field_name="object_id", max_length=64, widget=forms.HiddenInput)
    since = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("Since"), widget=forms.HiddenInput
    )

    class Meta:
        model = AuditEvent
        fields: list[str] = []
