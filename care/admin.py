"""Admin of dropout control: the district's rules (data per tenant; the administrator keeps the
district's settings). Cases and absences are worked on the pages, never here."""

from django.contrib import admin

from schools.admin import ScopedAdminMixin
from schools.permissions import Action

from .models import CareRules


@admin.register(CareRules)
class CareRulesAdmin(ScopedAdminMixin, admin.ModelAdmin):
    manage_action = Action.TENANT_SETTINGS
    list_display = [
        "__str__", "school_notice_days", "home_visit_days", "suspected_after_days", "pairing_max_pupils",
        "pairing_visit_days",
    ]  # fmt: skip
    fields = [
        "school_notice_days", "home_visit_days", "suspected_after_days", "pairing_max_pupils", "pairing_visit_days",
        "weekly_due_days", "weekly_due_time",
    ]  # fmt: skip

    def has_add_permission(self, request, obj=None):
        # One row per district (a unique constraint): add it once, then change it.
        return super().has_add_permission(request, obj) and not self.get_queryset(request).exists()
