"""The reconciliation's background task."""

from __future__ import annotations

from celery import shared_task

from core.tenancy.tasks import TenantTask
from schools import jobs


@shared_task(base=TenantTask, atomic=False, name="audits.reconciliation")
def reconciliation_task(*, tenant_id: str, actor_id: str, job_id: str) -> None:
    """Run the reconciliation of job `job_id`. Safe to run again: its writes are one transaction, and
    a run on the same inputs finds the finished one."""
    from .services import reconciliation_job_run

    jobs.run(job_id=job_id, work=lambda job: reconciliation_job_run(job=job))


@shared_task(base=TenantTask, atomic=False, name="audits.reconciliation_act")
def reconciliation_act_task(*, tenant_id: str, actor_id: str, job_id: str) -> None:
    """Act on a run's list for job `job_id` (omissions → awards, errors → corrections). Safe to run
    again: each award or correction is written with its finding's mark, and a marked finding is
    not acted on twice."""
    from .services import reconciliation_act_job_run

    jobs.run(job_id=job_id, work=lambda job: reconciliation_act_job_run(job=job))
