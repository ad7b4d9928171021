"""The disbursement pages' list filters (django-filter)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from core.listing import ListFilterSet, SortFilter, StatusFilter
from funding.filters import visible_programs
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
    """发放批次 of the semester in use: kind; tabs by state."""

    status_field = "status"
    status_choices = BatchStatus.choices

    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=BatchKind.choices)
    status = StatusFilter()
    sort = SortFilter(fields=(("number", "number"), ("created_at", "created")))

    class Meta:
        model = Batch
        fields: list[str] = []


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
    status = StatusFilter()
    sort = SortFilter(fields=(("award__student__name", "name"), ("created_at", "created")))

    class Meta:
        model = Correction
        fields: list[str] = []


class RecoveryFilter(ListFilterSet):
    """追回 cases, beside the corrections on the same page: the same search and school (no tabs)."""

    q = PupilSearch(prefix="line__student__")
    school = django_filters.ModelChoiceFilter(label=_("School"), queryset=visible_schools, empty_label=_("All schools"))
    recovery = django_filters.ChoiceFilter(
        field_name="status", label=_("Recovery"), choices=RecoveryStatus.choices, empty_label=_("All")
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
