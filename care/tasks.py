"""Scheduled work of the weekly return: remind the schools late with it (每周按时填报)."""

from __future__ import annotations

from celery import shared_task

from core.tenancy.tasks import TenantTask
from schools.models import Tenant, User
from schools.services import tenant_system_user

from .weekly.services import weekly_returns_remind


@shared_task(base=TenantTask, name="care.remind_weekly_returns")
def remind_weekly_returns(*, tenant_id: str, actor_id: str) -> int:
    """Leave a reminder for each school of the tenant late with a week's return (idempotent)."""
    return weekly_returns_remind(actor=User.objects.get(pk=actor_id))


@shared_task(name="care.remind_weekly_returns_everywhere")
def remind_weekly_returns_everywhere() -> int:
    """The daily dispatcher (Celery beat): one reminding task per active tenant, acting as the tenant's
    system account. It reads only the global tenant and account tables, never tenant data."""
    tenants = list(Tenant.objects.filter(is_active=True).order_by("slug"))
    for tenant in tenants:
        actor = tenant_system_user(tenant)
        remind_weekly_returns.delay(tenant_id=str(tenant.pk), actor_id=str(actor.pk))
    return len(tenants)
