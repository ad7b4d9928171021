"""Sheets the district imports and exports in the admin (django-import-export): funding programs (资助项目)
and their standards (资助标准). Lookups go through the importing user's scope (schools.resources)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.fields import Field

from schools.models import Stage
from schools.permissions import Action
from schools.resources import (
    AmountWidget,
    ChoiceListWidget,
    ChoiceWidget,
    ScopedForeignKeyWidget,
    ScopedResource,
    TextWidget,
    WholeNumberWidget,
    YesNoWidget,
)
from students.models import HardshipCategory, Tier

from .models import Boarding, FundingSource, PaymentMethod, Program, Semester, Standard, Term


class ProgramResource(ScopedResource):
    """资助项目: one row per program, matched on its code."""

    manage_action = Action.FUNDING_MANAGE

    code = Field("code", "code", widget=TextWidget())
    name = Field("name", "name", widget=TextWidget())
    stages = Field("stages", "stages", widget=ChoiceListWidget(Stage.choices))
    source = Field("source", "source", widget=ChoiceWidget(FundingSource.choices))
    payment_method = Field("payment_method", "payment_method", widget=ChoiceWidget(PaymentMethod.choices))
    requires_identification = Field(
        "requires_identification", "requires_identification", widget=YesNoWidget(), default=True
    )
    eligible_tiers = Field("eligible_tiers", "eligible_tiers", widget=ChoiceListWidget(Tier.choices))
    # The district's own categories (code or name); the choices are read when the sheet is.
    eligible_categories = Field("eligible_categories", "eligible_categories", widget=ChoiceListWidget(()))
    rural_schools_only = Field("rural_schools_only", "rural_schools_only", widget=YesNoWidget(), default=False)
    boarders_only = Field("boarders_only", "boarders_only", widget=YesNoWidget(), default=False)
    is_emergency = Field("is_emergency", "is_emergency", widget=YesNoWidget(), default=False)
    exclusive_group = Field("exclusive_group", "exclusive_group", widget=TextWidget())
    is_active = Field("is_active", "is_active", widget=YesNoWidget(), default=True)
    sort_order = Field("sort_order", "sort_order", widget=WholeNumberWidget(), default=0)

    class Meta:
        model = Program
        name = _("Funding programs")
        fields = (
            "code", "name", "stages", "source", "payment_method", "requires_identification", "eligible_tiers",
            "eligible_categories", "rural_schools_only", "boarders_only", "is_emergency", "exclusive_group",
            "is_active", "sort_order",
        )  # fmt: skip
        import_id_fields = ("code",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def __init__(self, *, user: Any = None, **kwargs: Any) -> None:
        super().__init__(user=user, **kwargs)
        self.fields["eligible_categories"].widget.choices = self._categories

    def _categories(self) -> list[tuple[str, str]]:
        if self.user is None:
            return []
        rows = HardshipCategory.objects.visible_to(self.user, self.manage_action).order_by("sort_order", "code")
        return list(rows.values_list("code", "name"))

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().order_by("sort_order", "code", "pk")


class SemesterWidget(ScopedForeignKeyWidget):
    """The semester of a row, named by its academic year (this column) and the `term` column."""

    def __init__(self) -> None:
        super().__init__(
            Semester, "academic_year", not_found=_("No semester %(value)s in your district: add it first.")
        )
        self.term = ChoiceWidget(Term.choices)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Semester | None:
        year = WholeNumberWidget().clean(value)
        if year is None:
            return None
        term = self.term.clean((row or {}).get("term"))
        if not term:
            raise ValueError(gettext("The term (spring or autumn) of the semester is missing."))
        semester = self.get_queryset(value, row).filter(academic_year=year, term=term).first()
        if semester is None:
            raise ValueError(str(self.not_found) % {"value": f"{year} {self.term.render(term)}"})
        return semester

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return value.academic_year if value else ""


class StandardResource(ScopedResource):
    """资助标准: the amount of a program for a semester, stage, tier and boarding (blank: any). A row is
    matched on all of them, so a sheet of amounts updates the standards it names."""

    manage_action = Action.FUNDING_MANAGE

    program = Field(
        "program", "program",
        widget=ScopedForeignKeyWidget(Program, "code", not_found=_("No program with the code “%(value)s”.")),
    )  # fmt: skip
    semester = Field("semester", "academic_year", widget=SemesterWidget())
    term = Field(column_name="term", widget=ChoiceWidget(Term.choices))
    stage = Field("stage", "stage", widget=ChoiceWidget(Stage.choices))
    tier = Field("tier", "tier", widget=ChoiceWidget(Tier.choices))
    boarding = Field("boarding", "boarding", widget=ChoiceWidget(Boarding.choices))
    amount = Field("amount", "amount", widget=AmountWidget())

    class Meta:
        model = Standard
        name = _("Funding standards")
        fields = ("program", "semester", "term", "stage", "tier", "boarding", "amount")
        import_id_fields = ("program", "semester", "stage", "tier", "boarding")
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self) -> QuerySet:
        return (
            super()
            .get_queryset()
            .select_related("program", "semester")
            .order_by("program__sort_order", "program__code", "semester__academic_year", "semester__term",
                      "stage", "tier", "boarding", "pk")
        )  # fmt: skip

    def dehydrate_term(self, standard: Standard) -> str:
        return self.fields["term"].widget.render(standard.semester.term)

    def export(self, queryset: QuerySet | None = None, **kwargs: Any) -> Any:
        standards = self.get_queryset()
        if queryset is not None and queryset.model is Program:
            # Exported from the programs' list: the standards of the programs listed there.
            standards = standards.filter(program__in=queryset.values("pk"))
        elif queryset is not None:
            standards = standards.filter(pk__in=queryset.values("pk"))
        return super().export(queryset=standards, **kwargs)
