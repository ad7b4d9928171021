"""Admin of the funding domain for the district center: semesters, programs, standards, budgets."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from schools import permissions
from schools.admin import ScopedAdminMixin, ScopedImportExportMixin
from schools.permissions import Action

from .models import Budget, Program, Semester, Standard
from .resources import ProgramResource, StandardResource
from .services.budgets import MSG_NOTE, budget_adjust, budget_check_quota
from .services.catalogue import standards_for_new_semester


class FundingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    manage_action = Action.FUNDING_MANAGE


@admin.register(Semester)
class SemesterAdmin(FundingAdmin):
    list_display = ["__str__", "starts_on", "ends_on", "deadline", "reopened_until"]
    fields = ["academic_year", "term", "starts_on", "ends_on", "deadline"]
    readonly_fields = ["reopened_until"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            standards_for_new_semester(obj)  # a new semester starts with the previous one's standards


class StandardInline(ScopedAdminMixin, admin.TabularInline):
    """资助标准. A standard row may be deleted (a wrong or unwanted default): awards keep the amount they
    were given, so deleting a row changes only lists built after it; the deletion is audited like any
    change."""

    model = Standard
    manage_action = Action.FUNDING_MANAGE
    extra = 0
    fields = ["semester", "stage", "tier", "boarding", "amount"]

    def has_delete_permission(self, request, obj=None):
        return permissions.can(request.user, self.manage_action)


#: Shown above a program's fields: where the defaults come from (funding/services/catalogue.py).
DEFAULTS_EXPLAINED = _(
    "The national programs and their standards start from reference figures checked against one county's "
    "published spring-2020 report: senior-high grant 1,200 / 1,000 / 800 per semester by tier (especially "
    "difficult / difficult / general), vocational grant 1,000, nutrition plan 400 per identified pupil of a "
    "rural school. The donor's grant is an inactive example. They are your district's data: change, delete "
    "or add rows to fit your province's documents; awards already made keep their amounts."
)


@admin.register(Program)
class ProgramAdmin(ScopedImportExportMixin, FundingAdmin):
    """Programs, with their standards inline; the import/export page offers two sheets: the programs,
    and the standards (a row names its program by code and its semester by academic year and term)."""

    list_display = ["name", "code", "source", "payment_method", "requires_identification", "is_active", "budgets"]
    list_filter = ["source", "payment_method", "is_active"]
    fieldsets = [
        (
            None,
            {
                "description": DEFAULTS_EXPLAINED,
                "fields": [
                    "code", "name", "stages", "source", "payment_method", "requires_identification",
                    "eligible_tiers", "eligible_categories", "rural_schools_only", "boarders_only", "is_emergency",
                    "is_active", "sort_order",
                ],
            },
        )
    ]  # fmt: skip
    inlines = [StandardInline]
    resource_classes = [ProgramResource, StandardResource]

    @admin.display(description=_("Budgets"))
    def budgets(self, obj: Program) -> str:
        """The program's budget page (compute, adjust, approve without a budget): budgets are computed
        there, not typed in here."""
        if obj.is_emergency:
            return "—"
        return format_html('<a href="{}?program={}">{}</a>', reverse("funding:budgets"), obj.pk, _("Budgets"))


class BudgetAdminForm(forms.ModelForm):
    class Meta:
        model = Budget
        fields = ["program", "semester", "school", "adjustment", "note"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and "adjustment" in cleaned:
            if not (cleaned.get("note") or "").strip():
                self.add_error("note", MSG_NOTE)
            try:
                budget_check_quota(budget=self.instance, adjustment=cleaned["adjustment"])
            except forms.ValidationError as error:
                self.add_error("adjustment", error)
        return cleaned


@admin.register(Budget)
class BudgetAdmin(FundingAdmin):
    """Budgets are computed (budgets_compute); the district changes only the adjustment and its note,
    through the same service as everywhere (budget_adjust: locked, checked against what is approved)."""

    form = BudgetAdminForm
    list_display = ["school", "program", "semester", "planned_students", "planned_amount", "adjustment"]
    list_filter = ["semester", "program"]
    list_select_related = ["school", "program", "semester"]
    fields = ["program", "semester", "school", "planned_students", "planned_amount", "adjustment", "note"]
    readonly_fields = ["planned_students", "planned_amount"]

    def save_model(self, request, obj, form, change):
        if change and {"adjustment", "note"} & set(form.changed_data):
            budget_adjust(
                actor=request.user, budget=obj, adjustment=form.cleaned_data["adjustment"],
                note=form.cleaned_data.get("note", ""),
            )  # fmt: skip
        elif not change:
            super().save_model(request, obj, form, change)
