"""Which tenant rows in the database have no audit event at all (used after every database test)."""

from __future__ import annotations

from django.apps import apps

from audits.models import AuditEvent
from core.audit.trail import object_type
from core.tenancy.context import tenant_transaction
from core.tenancy.models import TenantModel
from schools.models import Tenant, User


def tenant_models() -> list[type]:
    return [m for m in apps.get_models() if issubclass(m, TenantModel)]


def _inside() -> list[type]:
    return [m for m in tenant_models() if getattr(m, "audited_inside", None)]


def unaudited_rows() -> list[str]:
    missing: list[str] = []
    for tenant_id in Tenant.objects.values_list("pk", flat=True):
        with tenant_transaction(tenant_id):
            audited: dict[str, set[str]] = {}
            inside = {object_type(m._meta.get_field(m.audited_inside[0]).related_model): m for m in _inside()}
            for kind, object_id, before, after in AuditEvent.objects.values_list(
                "object_type", "object_id", "before", "after"
            ):
                audited.setdefault(kind, set()).add(object_id)
                child = inside.get(kind)
                if child is not None:
                    # Rows recorded inside their parent's event (a pupil's guardians, by a roster
                    # import): each with its id, under the model's key.
                    key = child.audited_inside[1]
                    for values in (before or {}).get(key, []) + (after or {}).get(key, []):
                        audited.setdefault(object_type(child), set()).add(values["id"])
            for model in [*tenant_models(), User]:
                parent = getattr(model, "audited_with", None)
                if parent:
                    # Rows written in bulk with their parent (a registry snapshot's rows, a run's
                    # findings): the parent's audit row stands for them, so the parent must have one.
                    field = model._meta.get_field(parent)
                    kind = object_type(field.related_model)
                    rows = model.objects.filter(tenant_id=tenant_id).values_list(field.attname, flat=True).distinct()
                    missing.extend(
                        f"{object_type(model)} via {kind}:{pk}"
                        for pk in rows
                        if str(pk) not in audited.get(kind, set())
                    )
                    continue
                kind = object_type(model)
                rows = model.objects.filter(tenant_id=tenant_id).values_list("pk", flat=True)
                missing.extend(f"{kind}:{pk}" for pk in rows if str(pk) not in audited.get(kind, set()))
    return missing
