"""The roster import's background task."""

from __future__ import annotations

from celery import shared_task

from core.tenancy.tasks import TenantTask
from schools import jobs


@shared_task(base=TenantTask, atomic=False, name="students.roster_import")
def roster_import_task(*, tenant_id: str, actor_id: str, job_id: str) -> None:
    """Run the roster import of job `job_id` (started by roster_upload). Safe to run again: the job is
    claimed once, and rows already written are found unchanged."""
    from .services import roster_import_job_run

    jobs.run(job_id=job_id, work=lambda job: roster_import_job_run(job=job))
