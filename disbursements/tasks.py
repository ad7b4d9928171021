"""The money's background tasks: building a batch, rebuilding the money summary."""

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


@shared_task(base=TenantTask, name="disbursements.money_summary_rebuild")
def money_summary_rebuild_task(*, tenant_id: str, actor_id: str) -> int:
    """The tenant's money summary recomputed whole, in one transaction (the nightly safety net)."""
    from .summary import money_summary_rebuild

    return money_summary_rebuild()


@shared_task(name="disbursements.money_summary_rebuild_everywhere")
def money_summary_rebuild_everywhere() -> int:
    """The nightly dispatcher (Celery beat): one rebuild per active tenant, as its system account. It
    reads only the global tenant and account tables."""
    from schools.models import Tenant
    from schools.services import tenant_system_user

    tenants = list(Tenant.objects.filter(is_active=True).order_by("slug"))
    for tenant in tenants:
        actor = tenant_system_user(tenant)
        money_summary_rebuild_task.delay(tenant_id=str(tenant.pk), actor_id=str(actor.pk))
    return len(tenants)
