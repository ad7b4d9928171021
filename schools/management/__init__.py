"""What every tenant command shares: the --tenant and --as options, and the person it acts as."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from core.audit import trail
from core.tenancy.context import tenant_transaction
from schools.models import Tenant, User
from schools.services import tenant_system_user


def add_tenant_arguments(parser: Any) -> None:
    parser.add_argument("--tenant", required=True, help="slug of the tenant (district)")
    parser.add_argument(
        "--as",
        dest="username",
        help="act as this user (a district staff account); default: the tenant's system account",
    )


def tenants_named(slug: str | None) -> list[Tenant]:
    """Every tenant by slug, or the one `slug` names (`--tenant` of the commands over all tenants);
    CommandError if there is no such tenant."""
    tenants = Tenant.objects.order_by("slug")
    if slug:
        tenants = tenants.filter(slug=slug)
        if not tenants.exists():
            raise CommandError(f"no tenant {slug!r}")
    return list(tenants)


def resolve_tenant(options: dict[str, Any]) -> tuple[Tenant, User, trail.Actor]:
    """The tenant, the acting user and the audit actor named by the options; CommandError (exit 1)
    for anything that does not exist, said plainly."""
    tenant = Tenant.objects.filter(slug=options["tenant"]).first()
    if tenant is None:
        raise CommandError(f"no tenant {options['tenant']!r}")
    with tenant_transaction(tenant.pk):
        if options["username"]:
            user = User.objects.filter(username=options["username"], tenant=tenant, is_active=True).first()
            if user is None:
                raise CommandError(f"no active user {options['username']!r} in tenant {tenant.slug}")
        else:
            with trail.acting_as(trail.Actor(user_id=None, label="system", source="command")):
                user = tenant_system_user(tenant)
    return tenant, user, trail.actor_for(user, source="command")
