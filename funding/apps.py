from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundingConfig(AppConfig):
    name = "funding"
    verbose_name = _("Funding programs")

    def ready(self):
        from . import checks  # noqa: F401  registers the system checks
