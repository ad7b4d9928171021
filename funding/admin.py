"""Admin of the funding domain for the district center: semesters, programs, standards, budgets."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from schools.admin import ScopedAdminMixin
from schools.permissions import Action

from .models import Budget, Program, Semester, Standard
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
    model = Standard
    manage_action = Action.FUNDING_MANAGE
    extra = 0
    fields = ["semester", "stage", "tier", "boarding", "amount"]


@admin.register(Program)
class ProgramAdmin(FundingAdmin):
    list_display = ["name", "code", "source", "payment_method", "requires_identification", "is_active", "budgets"]
    list_filter = ["source", "payment_method", "is_active"]
    fields = [
        "code", "name", "stages", "source", "payment_method", "requires_identification", "eligible_tiers",
        "eligible_categories", "rural_schools_only", "boarders_only", "is_emergency", "is_active", "sort_order",
    ]  # fmt: skip
    inlines = [StandardInline]

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
