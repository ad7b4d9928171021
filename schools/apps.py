from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _grant_app_role(sender, using="default", **kwargs):
    from django.conf import settings

    from core.tenancy.db import grant_app_role

    grant_app_role(using, role=settings.DATABASE_APP_ROLE)


def _tenant_keys(sender, using="default", plan=None, **kwargs):
    from core.tenancy.db import tenant_keys_after_migrate

    tenant_keys_after_migrate(using, plan)


class SchoolsConfig(AppConfig):
    name = "schools"
    verbose_name = _("Schools and people")

    def ready(self):
        # Every migration has run by the time post_migrate is sent, for whichever app: grant once.
        post_migrate.connect(_grant_app_role, sender=self, dispatch_uid="schools.grant_app_role")
        # A table a migration made since, without its TenantKeys(), gets keys that carry the tenant.
        post_migrate.connect(_tenant_keys, sender=self, dispatch_uid="schools.tenant_keys")
        from core import authz, worklist

        from . import permissions
        from .worklist import structure_items

        # The kernel's scoping helper and API adapter ask this module (core.authz).
        authz.install(permissions)

        worklist.register(structure_items)

        from .door import signals  # noqa: F401  sign-ins, failures and lockouts into the trail
