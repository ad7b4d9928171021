"""The Django admin, opened to tenant administrators (their tenant only) and the platform operator.

Who may open it, and what each model admin shows, is decided by schools.permissions; Django's own
model permissions are not used.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig

from schools import permissions
from schools.permissions import Action


class TenantAdminSite(admin.AdminSite):
    site_header = settings.ADMIN_SITE_HEADER
    site_title = settings.ADMIN_SITE_HEADER
    index_title = settings.ADMIN_SITE_HEADER

    def has_permission(self, request):
        user = request.user
        return user.is_active and user.is_staff and permissions.can(user, Action.ADMIN_ACCESS)


class AdminConfig(DjangoAdminConfig):
    default_site = "config.admin_site.TenantAdminSite"

    def ready(self):
        super().ready()
        # django-celery-beat registers its schedule tables on the admin: they are the platform's, not
        # a district's, and a tenant admin must not see or change them. Operators use the settings.
        from django_celery_beat import models as beat

        for model in (beat.PeriodicTask, beat.IntervalSchedule, beat.CrontabSchedule, beat.SolarSchedule,
                      beat.ClockedSchedule):  # fmt: skip
            if admin.site.is_registered(model):
                admin.site.unregister(model)
