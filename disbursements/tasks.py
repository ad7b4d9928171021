"""The money's background tasks: building a batch."""

from __future__ import annotations

from celery import shared_task

from core.tenancy.tasks import TenantTask
from schools import jobs


@shared_task(base=TenantTask, atomic=False, name="disbursements.batch_build")
def batch_build_task(*, tenant_id: str, actor_id: str, job_id: str) -> None:
    """Build the batch of job `job_id`. Safe to run again: the batch is written in one transaction
    with the job's id, and a later attempt finds it."""
    from .services.batches import batch_build_job_run

    jobs.run(job_id=job_id, work=lambda job: batch_build_job_run(job=job))
