"""Admin of the disbursements for the district center: the banks' roster layouts."""

from django.contrib import admin

from schools.admin import ScopedAdminMixin
from schools.permissions import Action

from .models import BankLayout


@admin.register(BankLayout)
class BankLayoutAdmin(ScopedAdminMixin, admin.ModelAdmin):
    manage_action = Action.BATCH_MANAGE
    list_display = ["bank", "csv_encoding"]
    fields = ["bank", "columns", "csv_encoding"]
