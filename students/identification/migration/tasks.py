"""The identified-list import's background task."""

from __future__ import annotations

from celery import shared_task

from core.tenancy.tasks import TenantTask
from schools import jobs


@shared_task(base=TenantTask, atomic=False, name="students.identification_migration")
def identification_migration_task(*, tenant_id: str, actor_id: str, job_id: str) -> None:
    """Run the import of job `job_id` (started by migration_upload). Safe to run again: the job is
    claimed once, and the import is one transaction whose rows a second run finds already imported."""
    from .services import migration_job_run

    jobs.run(job_id=job_id, work=lambda job: migration_job_run(job=job))
