"""The reports' background work: a snapshot on demand (a job), and the scheduled ones (Celery beat)."""

from __future__ import annotations

from celery import shared_task

from core.tenancy.tasks import TenantTask
from schools import jobs
from schools.models import Tenant, User
from schools.services import tenant_system_user


@shared_task(base=TenantTask, atomic=False, name="oversight.report_generate")
def report_generate_task(*, tenant_id: str, actor_id: str, job_id: str) -> None:
    """Make the snapshot of job `job_id`; a job sent again after it finished is not claimed."""
    from .services import report_generate_job_run

    jobs.run(job_id=job_id, work=lambda job: report_generate_job_run(job=job))


@shared_task(base=TenantTask, name="oversight.reports_due")
def reports_due_task(*, tenant_id: str, actor_id: str) -> int:
    """The tenant's scheduled snapshots that are due (idempotent), made by its system account."""
    from .services import reports_due

    return len(reports_due(actor=User.objects.get(pk=actor_id)))


@shared_task(name="oversight.reports_due_everywhere")
def reports_due_everywhere() -> int:
    """The daily dispatcher (Celery beat): one task per active tenant, acting as its system account. It
    reads only the global tenant and account tables, never tenant data."""
    tenants = list(Tenant.objects.filter(is_active=True).order_by("slug"))
    for tenant in tenants:
        actor = tenant_system_user(tenant)
        reports_due_task.delay(tenant_id=str(tenant.pk), actor_id=str(actor.pk))
    return len(tenants)


@shared_task(name="oversight.district_figures_rebuild")
def district_figures_rebuild_task() -> dict:
    """The region accounts' aggregate table rebuilt from every district's money summary (Celery beat,
    nightly after the summaries' own rebuild). A platform task, not a TenantTask: it works outside every
    tenant's context, entering each district's in turn to read. Idempotent: it replaces the rows."""
    from dataclasses import asdict

    from .region.services import district_figures_rebuild

    return asdict(district_figures_rebuild())
