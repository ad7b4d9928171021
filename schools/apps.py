from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _grant_app_role(sender, using="default", **kwargs):
    from django.conf import settings

    from .tenancy.db import grant_app_role

    grant_app_role(using, role=settings.DATABASE_APP_ROLE)


class SchoolsConfig(AppConfig):
    name = "schools"
    verbose_name = _("Schools and people")

    def ready(self):
        # Every migration has run by the time post_migrate is sent, for whichever app: grant once.
        post_migrate.connect(_grant_app_role, sender=self, dispatch_uid="schools.grant_app_role")
        from funding.infra import worklist

        from .worklist import structure_items

        worklist.register(structure_items)
