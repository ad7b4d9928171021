"""Admin of the students app: the district's hardship categories (tenant data, seeded nationally)."""

from django.contrib import admin

from schools.admin import ScopedAdminMixin
from schools.permissions import Action

from .models import HardshipCategory


@admin.register(HardshipCategory)
class HardshipCategoryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    manage_action = Action.TENANT_SETTINGS
    list_display = ["name", "code", "source", "is_special", "is_active", "sort_order"]
    list_editable = ["is_active", "sort_order"]
    fields = ["code", "name", "source", "is_special", "is_active", "sort_order"]
    ordering = ["sort_order", "code"]
