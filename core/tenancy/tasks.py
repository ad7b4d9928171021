"""The base of every Celery task that touches tenant data."""

from __future__ import annotations

from typing import Any

from celery.contrib.django.task import DjangoTask
from django.apps import apps

from core.audit import trail

from .context import tenant_context, tenant_transaction


class TaskContextMissing(ValueError):
    """A task was sent without the tenant and the actor it works for."""


class TenantTask(DjangoTask):
    """Runs with the tenant and actor named in its keyword arguments `tenant_id` and `actor_id`.

    A task refuses to run without both: background work is always done for one tenant, on some
    person's behalf (a scheduled job names the system user of its tenant). With `atomic = True` (the
    default) the whole body is one tenant transaction; long jobs set `atomic = False` and open
    `tenant_transaction(...)` per chunk, so progress is committed as it is made.
    """

    abstract = True
    atomic = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tenant_id, actor_id = kwargs.get("tenant_id"), kwargs.get("actor_id")
        if not tenant_id or not actor_id:
            raise TaskContextMissing(f"{self.name} needs tenant_id and actor_id keyword arguments")
        user_model = apps.get_model("schools", "User")
        actor_user = user_model.objects.filter(pk=actor_id, tenant_id=tenant_id, is_active=True).first()
        if actor_user is None:
            raise TaskContextMissing(f"{self.name}: actor {actor_id} is not an active user of tenant {tenant_id}")
        actor = trail.Actor(
            user_id=actor_user.pk,
            label=actor_user.get_username(),
            source="task",
            request_id=str(self.request.id or "")[:36],
        )
        with trail.acting_as(actor):
            if self.atomic:
                with tenant_transaction(tenant_id):
                    return self.run(*args, **kwargs)
            with tenant_context(tenant_id):
                return self.run(*args, **kwargs)
