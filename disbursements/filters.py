"""The disbursement pages' list filters (django-filter)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.listing import ListFilterSet, SortFilter, StatusFilter
from funding.filters import visible_programs, visible_semesters
from students.filters import PupilSearch, visible_schools

from .models import (
    Batch,
    BatchKind,
    BatchStatus,
    Correction,
    CorrectionKind,
    CorrectionStatus,
    LineStatus,
    PaymentLine,
    Recovery,
    RecoveryStatus,
)


class BatchFilter(ListFilterSet):
    """发放批次 of the semester in use: kind, and the batches holding lines of a program or of a bank's
    answer (the home page's paid and failed counts); tabs by state. With `program` or `line_status`,
    each batch's count and total are of those lines only (`line_filters`), so that the column's sum is
    the home page's number."""

    status_field = "status"
    status_choices = BatchStatus.choices

    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=BatchKind.choices)
    program = django_filters.ModelChoiceFilter(
        label=_("Program"), queryset=visible_programs, empty_label=_("All programs"), method="with_lines"
    )
    line_status = django_filters.ChoiceFilter(
        label=_("Payment line"), choices=LineStatus.choices, empty_label=_("All"), method="with_lines"
    )
    status = StatusFilter()
    sort = SortFilter(fields=(("number", "number"), ("created_at", "created")))

    class Meta:
        model = Batch
        fields: list[str] = []

    def line_filters(self) -> dict[str, Any]:
        """The conditions on a batch's lines that the filters name ({"program": …, "status": …})."""
        values = self.values()
        found = {"program": values.get("program"), "status": values.get("line_status")}
        return {k: v for k, v in found.items() if v not in (None, "")}

    def with_lines(self, qs: Any, _name: str, _value: Any) -> Any:
        # Both are one condition on the same line (a failed line of this program), applied once: by
        # `line_status` when it is given, else by `program`.
        lines = self.line_filters()
        if not lines or (_name == "program" and "status" in lines):
            return qs
        return qs.filter(pk__in=PaymentLine.objects.filter(**lines).values("batch_id"))


class CorrectionFilter(ListFilterSet):
    """停发 / 追回 corrections: the pupil, school, program, kind; tabs by decision."""

    status_field = "status"
    status_choices = CorrectionStatus.choices

    q = PupilSearch(prefix="award__student__")
    school = django_filters.ModelChoiceFilter(label=_("School"), queryset=visible_schools, empty_label=_("All schools"))
    program = django_filters.ModelChoiceFilter(
        field_name="award__program", label=_("Program"), queryset=visible_programs, empty_label=_("All programs")
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=CorrectionKind.choices)
    #: `others=1`: proposed by someone else (the worklist's "to approve": nobody approves their own).
    others = django_filters.BooleanFilter(widget=forms.HiddenInput, method="by_others")
    status = StatusFilter()
    sort = SortFilter(fields=(("award__student__name", "name"), ("created_at", "created")))

    class Meta:
        model = Correction
        fields: list[str] = []

    def by_others(self, qs: Any, _name: str, value: bool | None) -> Any:
        return qs.exclude(proposed_by=self.user) if value else qs


class RecoveryFilter(ListFilterSet):
    """追回 cases, beside the corrections on the same page: the same search and school (no tabs)."""

    q = PupilSearch(prefix="line__student__")
    school = django_filters.ModelChoiceFilter(label=_("School"), queryset=visible_schools, empty_label=_("All schools"))
    recovery = django_filters.ChoiceFilter(
        field_name="status", label=_("Recovery"), choices=RecoveryStatus.choices, empty_label=_("All")
    )
    program = django_filters.ModelChoiceFilter(
        field_name="line__program", label=_("Program"), queryset=visible_programs, empty_label=_("All programs")
    )
    semester = django_filters.ModelChoiceFilter(
        field_name="line__semester", queryset=visible_semesters, widget=forms.HiddenInput
    )

    class Meta:
        model = Recovery
        fields: list[str] = []


class LineFilter(ListFilterSet):
    """A batch's payment lines (发放明细): the pupil, school, program, bank; tabs by the bank's answer."""

    status_field = "status"
    status_choices = LineStatus.choices

    q = PupilSearch(prefix="student__")
    school = django_filters.ModelChoiceFilter(label=_("School"), queryset=visible_schools, empty_label=_("All schools"))
    program = django_filters.ModelChoiceFilter(
        label=_("Program"), queryset=visible_programs, empty_label=_("All programs")
    )
    bank = django_filters.CharFilter(label=_("Bank"), lookup_expr="contains", max_length=50)
    status = StatusFilter()
    sort = SortFilter(fields=(("student__name", "name"), ("school__code", "school"), ("amount", "amount")))

    class Meta:
        model = PaymentLine
        fields: list[str] = []
