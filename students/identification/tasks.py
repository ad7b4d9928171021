"""Scheduled work of the identification: closing publicity lists whose period is over."""

from __future__ import annotations

from celery import shared_task

from core.tenancy.tasks import TenantTask
from schools.models import Tenant, User
from schools.services import tenant_system_user

from . import publicity


@shared_task(base=TenantTask, name="students.close_due_publicities")
def close_due_publicities(*, tenant_id: str, actor_id: str) -> int:
    """Close the tenant's lists whose period ended with no open objection (idempotent)."""
    return publicity.publicities_close_due(actor=User.objects.get(pk=actor_id))


@shared_task(name="students.close_due_publicities_everywhere")
def close_due_publicities_everywhere() -> int:
    """The daily dispatcher (Celery beat): one closing task per active tenant, acting as the tenant's
    system account. It reads only the global tenant and account tables, never tenant data."""
    tenants = list(Tenant.objects.filter(is_active=True).order_by("slug"))
    for tenant in tenants:
        actor = tenant_system_user(tenant)
        close_due_publicities.delay(tenant_id=str(tenant.pk), actor_id=str(actor.pk))
    return len(tenants)
