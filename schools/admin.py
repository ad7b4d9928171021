"""Admin for tenant administrators (schools, grades, classes, accounts and roles of their tenant) and
for the platform operator (tenants and their first administrator)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from knox.models import AuthToken

from core.audit import trail
from schools import permissions, services
from schools.door import services as door_services
from schools.models import CalendarDay, Grade, RoleAssignment, School, SchoolClass, Stage, Tenant, User
from schools.permissions import Action
from schools.resources import SchoolClassResource, SchoolResource

# Django's groups and knox's token list are global tables: not for tenant administrators, and a token
# list would show every tenant's accounts. Roles are our RoleAssignment; tokens are issued by
# /api/v1/token/ and on the "API tokens" page, which also lists and revokes them (schools.views).
admin.site.unregister(Group)
admin.site.unregister(AuthToken)


class ScopedAdminMixin:
    """Rows through the scoping helper, permissions from the permission module, foreign-key choices
    limited to what the user may see. Nothing is deleted through the admin: rows are deactivated."""

    manage_action: Action = Action.SCHOOL_MANAGE

    def get_queryset(self, request):
        return self.model.objects.visible_to(request.user, self.manage_action)

    def has_module_permission(self, request):
        return permissions.can(request.user, self.manage_action)

    def has_view_permission(self, request, obj=None):
        return permissions.can(request.user, self.manage_action, obj)

    has_change_permission = has_view_permission

    def has_add_permission(self, request, obj=None):
        return permissions.can(request.user, self.manage_action)

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related.objects, "visible_to"):
            kwargs["queryset"] = related.objects.visible_to(request.user, self.manage_action)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedImportExportMixin(ImportExportMixin):
    """Import and export of sheets (schools.resources) for who may manage the rows (`manage_action`):
    the resources look every row up through the user's scope, the export is the admin's scoped
    queryset, and an import is all-or-nothing (a file with any bad row changes nothing)."""

    # The two formats a district office has (import-export offers a dozen by default).
    import_formats = export_formats = [XLSX, CSV]

    def has_import_permission(self, request):
        return permissions.can(request.user, self.manage_action)

    def has_export_permission(self, request):
        return permissions.can(request.user, self.manage_action)

    def get_resource_kwargs(self, request, *args, **kwargs):
        return {"user": request.user}

    def get_import_data_kwargs(self, **kwargs):
        # A row that fails validation rolls back the others too (import-export keeps them by default).
        return super().get_import_data_kwargs(**kwargs) | {"rollback_on_validation_errors": True}

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            # The data changed between the preview and the confirmation: nothing was written.
            messages.error(request, _("The import was not applied: the file no longer fits. Import it again."))
            info = self.get_model_info()
            return HttpResponseRedirect(reverse(f"admin:{info[0]}_{info[1]}_import", current_app=self.admin_site.name))
        return super().process_result(result, request)


class GradeInline(ScopedAdminMixin, admin.TabularInline):
    model = Grade
    extra = 0
    fields = ["stage", "entry_year"]


class SchoolForm(forms.ModelForm):
    stages = forms.MultipleChoiceField(label=_("stages"), choices=Stage.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = School
        fields = ["code", "name", "stages", "area", "township", "is_active"]


@admin.register(School)
class SchoolAdmin(ScopedAdminMixin, ScopedImportExportMixin, admin.ModelAdmin):
    form = SchoolForm
    resource_classes = [SchoolResource]
    list_display = ["code", "name", "area", "township", "is_active"]
    list_filter = ["area", "is_active"]
    search_fields = ["code", "name", "township"]
    fields = ["code", "name", "stages", "area", "township", "is_active"]
    inlines = [GradeInline]


class ClassInline(ScopedAdminMixin, admin.TabularInline):
    model = SchoolClass
    extra = 0
    fields = ["number"]


@admin.register(Grade)
class GradeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "school", "stage", "entry_year"]
    list_filter = ["stage", "entry_year"]
    list_select_related = ["school"]
    fields = ["school", "stage", "entry_year"]
    inlines = [ClassInline]

    def save_formset(self, request, form, formset, change):
        for obj in formset.save(commit=False):
            obj.school_id = form.instance.school_id
            obj.save()


@admin.register(SchoolClass)
class SchoolClassAdmin(ScopedAdminMixin, ScopedImportExportMixin, admin.ModelAdmin):
    resource_classes = [SchoolClassResource]
    list_display = ["__str__", "school", "grade", "number"]
    list_select_related = ["school", "grade"]
    fields = ["grade", "number"]

    def save_model(self, request, obj, form, change):
        obj.school_id = obj.grade.school_id
        super().save_model(request, obj, form, change)


class RoleAssignmentInline(ScopedAdminMixin, admin.TabularInline):
    model = RoleAssignment
    manage_action = Action.USER_MANAGE
    extra = 1
    fields = ["role", "school", "grade", "klass"]


class TenantUserCreationForm(forms.ModelForm):
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = ["username", "full_name"]

    def clean_password(self):
        password = self.cleaned_data["password"]
        validate_password(password, User(username=self.cleaned_data.get("username", "")))
        return password


# django-otp's device admins would show every authenticator's secret key to whoever opens the admin:
# devices are enrolled by their owner and reset by the tenant administrator on the door's pages.
for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Accounts of the administrator's tenant; roles are edited inline."""

    manage_action = Action.USER_MANAGE
    list_display = ["username", "full_name", "tenant", "is_active", "last_login"]
    list_filter = ["is_active"]
    search_fields = ["username", "full_name"]
    ordering = ["username"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Person"), {"fields": ["full_name", "email", "is_active"]}),
    ]
    add_fieldsets = [(None, {"fields": ["username", "full_name", "password"]})]
    add_form = TenantUserCreationForm
    inlines = [RoleAssignmentInline]
    readonly_fields = ["tenant"]

    def get_queryset(self, request):
        return User.objects.visible_to(request.user)

    def has_module_permission(self, request):
        return permissions.can(request.user, Action.USER_MANAGE)

    def has_view_permission(self, request, obj=None):
        if obj is not None and obj.tenant_id != request.user.tenant_id:
            return False
        return permissions.can(request.user, Action.USER_MANAGE)

    has_change_permission = has_view_permission

    def has_add_permission(self, request, obj=None):
        return permissions.can(request.user, Action.USER_MANAGE)

    def has_delete_permission(self, request, obj=None):
        return False

    def user_change_password(self, request, id, form_url=""):
        """Django's "set password" page; the person must then change it at their next sign-in (audited)."""
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            account = self.get_object(request, id)
            if account is not None:
                door_services.password_set_by_admin(account=account, actor=request.user)
        return response

    def save_model(self, request, obj, form, change):
        if not change:
            obj.tenant_id = request.user.tenant_id
            obj.is_staff = True
            obj.set_password(form.cleaned_data["password"])
            obj.must_change_password = True  # an administrator chose it: the person changes it first
        before = {} if not change else {f: form.initial.get(f) for f in form.changed_data if f != "password"}
        super().save_model(request, obj, form, change)
        after = {f: getattr(obj, f) for f in (form.changed_data if change else ["username", "full_name"])}
        after.pop("password", None)
        trail.record(
            tenant_id=obj.tenant_id,
            action="user.update" if change else "user.create",
            obj=obj,
            before=before or None,
            after=after | ({"password": "changed"} if "password" in form.changed_data and change else {}),
        )


class TenantCreationForm(forms.ModelForm):
    admin_username = forms.CharField(label=_("First administrator's username"), max_length=150)
    admin_password = forms.CharField(label=_("First administrator's password"), widget=forms.PasswordInput)

    class Meta:
        model = Tenant
        fields = ["slug", "name", "region_code"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    """The platform operator creates tenants (never sees their data); a tenant administrator edits
    their own district's settings."""

    list_display = ["slug", "name", "region_code", "is_active", "created_at"]
    fields = ["slug", "name", "region_code", "is_active", "publicity_working_days", "special_category_tier"]
    SETTINGS = ["publicity_working_days", "special_category_tier"]

    def _is_operator(self, request):
        return permissions.can(request.user, Action.TENANT_MANAGE)

    def get_readonly_fields(self, request, obj=None):
        return [] if self._is_operator(request) else ["slug", "name", "region_code", "is_active"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = TenantCreationForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["slug", "name", "region_code", "admin_username", "admin_password"] if obj is None else self.fields

    def get_queryset(self, request):
        return Tenant.objects.visible_to(request.user)

    def has_module_permission(self, request):
        return self._is_operator(request) or permissions.can(request.user, Action.TENANT_SETTINGS)

    def has_view_permission(self, request, obj=None):
        if self._is_operator(request):
            return True
        own = obj is None or obj.pk == request.user.tenant_id
        return own and permissions.can(request.user, Action.TENANT_SETTINGS)

    has_change_permission = has_view_permission

    def has_add_permission(self, request):
        return self._is_operator(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            before = {f: form.initial.get(f) for f in form.changed_data}
            super().save_model(request, obj, form, change)
            trail.record(
                tenant_id=obj.pk,
                action="tenant.update",
                obj=obj,
                before=before,
                after={f: getattr(obj, f) for f in form.changed_data},
            )
            return
        tenant = services.tenant_create(slug=obj.slug, name=obj.name, region_code=obj.region_code, pk=obj.pk)
        services.tenant_admin_create(
            tenant=tenant,
            username=form.cleaned_data["admin_username"],
            password=form.cleaned_data["admin_password"],
        )
        obj._state.adding = False


@admin.register(CalendarDay)
class CalendarDayAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The district's own rest days and make-up working days (on top of the national calendar)."""

    manage_action = Action.TENANT_SETTINGS
    list_display = ["date", "is_workday", "note"]
    fields = ["date", "is_workday", "note"]
    ordering = ["-date"]

    def has_delete_permission(self, request, obj=None):
        return permissions.can(request.user, self.manage_action, obj)
