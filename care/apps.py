from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    """Dropout control (控辍保学): attendance and absence, dropout cases and persuasion to return (issue 16)."""

    name = "care"
    verbose_name = _("Dropout control")

    def ready(self):
        from core import worklist

        from .worklist import care_items, weekly_items

        worklist.register(care_items)
        worklist.register(weekly_items)
