"""What the disbursement commands share: the tenant, the person they act as, the batch."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import CommandError

from core.audit import trail
from core.tenancy.context import tenant_transaction
from schools.management import add_tenant_arguments, resolve_tenant
from schools.models import Tenant, User

from ..models import Batch


def add_common_arguments(parser: Any) -> None:
    add_tenant_arguments(parser)
    parser.add_argument("--batch", required=True, help="the batch's id (UUID)")


def resolve(options: dict[str, Any]) -> tuple[Tenant, User, Batch, trail.Actor]:
    """The tenant, the acting user, the batch and the audit actor named by the options; CommandError
    (exit 1) for anything that does not exist, said plainly."""
    try:
        batch_id = uuid.UUID(options["batch"])
    except ValueError:
        raise CommandError(f"--batch must be a batch id (a UUID), not {options['batch']!r}") from None
    tenant, user, actor = resolve_tenant(options)
    with tenant_transaction(tenant.pk):
        batch = Batch.objects.select_related("semester").filter(pk=batch_id).first()
        if batch is None:
            raise CommandError(f"no batch {batch_id} in tenant {tenant.slug}")
    return tenant, user, batch, actor
