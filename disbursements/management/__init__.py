"""What the disbursement commands share: the tenant, the person they act as, the batch."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import CommandError

from audits import trail
from schools.models import Tenant, User
from schools.services import tenant_system_user
from schools.tenancy.context import tenant_transaction

from ..models import Batch


def add_common_arguments(parser: Any) -> None:
    parser.add_argument("--tenant", required=True, help="slug of the tenant (district)")
    parser.add_argument("--batch", required=True, help="the batch's id (UUID)")
    parser.add_argument(
        "--as",
        dest="username",
        help="act as this user (a district staff account); default: the tenant's system account",
    )


def resolve(options: dict[str, Any]) -> tuple[Tenant, User, Batch, trail.Actor]:
    """The tenant, the acting user, the batch and the audit actor named by the options; CommandError
    (exit 1) for anything that does not exist, said plainly."""
    tenant = Tenant.objects.filter(slug=options["tenant"]).first()
    if tenant is None:
        raise CommandError(f"no tenant {options['tenant']!r}")
    try:
        batch_id = uuid.UUID(options["batch"])
    except ValueError:
        raise CommandError(f"--batch must be a batch id (a UUID), not {options['batch']!r}") from None
    with tenant_transaction(tenant.pk):
        if options["username"]:
            user = User.objects.filter(username=options["username"], tenant=tenant, is_active=True).first()
            if user is None:
                raise CommandError(f"no active user {options['username']!r} in tenant {tenant.slug}")
        else:
            with trail.acting_as(trail.Actor(user_id=None, label="system", source="command")):
                user = tenant_system_user(tenant)
        batch = Batch.objects.select_related("semester").filter(pk=batch_id).first()
        if batch is None:
            raise CommandError(f"no batch {batch_id} in tenant {tenant.slug}")
    return tenant, user, batch, trail.actor_for(user, source="command")
