from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudentsConfig(AppConfig):
    name = "students"
    verbose_name = _("Students")

    def ready(self):
        from funding.infra import worklist

        from .worklist import register_items

        worklist.register(register_items)
