"""Background work of the students app (Celery's autodiscovery imports this module)."""

from .roster.tasks import roster_import_task

__all__ = ["roster_import_task"]
