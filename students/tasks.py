"""Background work of the students app (Celery's autodiscovery imports this module)."""

from .identification.migration.tasks import identification_migration_task
from .roster.tasks import roster_import_task

__all__ = ["identification_migration_task", "roster_import_task"]
