"""Background work of the kernel: the daily removal of uploads their jobs left behind."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from . import storage

logger = logging.getLogger(__name__)


@shared_task(name="core.sweep_uploads")
def sweep_uploads() -> int:
    """Delete uploads older than UPLOAD_RETENTION_HOURS in every registered folder: a job deletes its
    upload when it ends, so what is left belongs to a job that never ended."""
    seconds = settings.UPLOAD_RETENTION_HOURS * 3600
    removed = 0
    for folder, (alias, names) in storage.UPLOAD_FOLDERS.items():
        removed += storage.sweep_uploads(folder, names=names, older_than_seconds=seconds, storage=alias)
    if removed:
        logger.warning("removed %d upload(s) older than %d h left by jobs that never ended", removed, seconds // 3600)
    return removed
