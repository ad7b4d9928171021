from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = _("Audits")

    def ready(self):
        from core import worklist

        from .worklist import audit_items

        worklist.register(audit_items)

        from core import storage

        from .registry.jobs import UPLOAD_NAME

        storage.register_upload_folder("registry", names=[UPLOAD_NAME])
