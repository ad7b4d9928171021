from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundingConfig(AppConfig):
    name = "funding"
    verbose_name = _("Funding programs")

    def ready(self):
        from schools.signals import tenant_created

        from .services.catalogue import seed_for_new_tenant

        tenant_created.connect(seed_for_new_tenant, dispatch_uid="funding.programs")
