from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Kernel")

    def ready(self):
        from . import checks  # noqa: F401  registers the system checks of the kernel's secrets
