"""The registry import's background task."""

from __future__ import annotations

from celery import shared_task

from core.tenancy.tasks import TenantTask
from schools import jobs


@shared_task(base=TenantTask, atomic=False, name="audits.registry_import")
def registry_import_task(*, tenant_id: str, actor_id: str, job_id: str) -> None:
    """Import the list of job `job_id` (started by registry_upload). Safe to run again: the job is
    claimed once, and the same file finds its snapshot and writes nothing."""
    from .jobs import registry_import_job_run

    jobs.run(job_id=job_id, work=lambda job: registry_import_job_run(job=job))
