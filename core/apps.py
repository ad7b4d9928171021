from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Kernel")

    def ready(self):
        from django.db.backends.signals import connection_created

        from . import checks  # noqa: F401  registers the system checks of the kernel's secrets
        from .pagecache import watch_connection
        from .tenancy.db import group_by_whole_rows

        connection_created.connect(group_by_whole_rows, dispatch_uid="core.group_by_whole_rows")
        connection_created.connect(watch_connection, dispatch_uid="core.pagecache.watch_connection")
