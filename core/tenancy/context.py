"""The current tenant, held in a context variable and, on PostgreSQL, in the transaction.

The tenant is set once per request (TenantMiddleware) and once per task (TenantTask), never read from
a thread-local. Without it tenant data cannot be read at all: the managers raise, and PostgreSQL's
row-level security returns no rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connections, models, transaction
from django.db.models.expressions import Expression

_tenant: ContextVar[uuid.UUID | None] = ContextVar("tenant_id", default=None)

GUC = "app.tenant_id"


class TenantContextMissing(PermissionDenied):
    """Tenant data was touched with no tenant set. A PermissionDenied, so a request answers 403, never
    500 and never another tenant's rows."""


def current_tenant_id() -> uuid.UUID:
    """The tenant of this request or task; raises TenantContextMissing if there is none."""
    tenant_id = _tenant.get()
    if tenant_id is None:
        raise TenantContextMissing("no tenant is set for this request or task")
    return tenant_id


def current_tenant_id_or_none() -> uuid.UUID | None:
    return _tenant.get()


def _as_uuid(tenant_id: uuid.UUID | str | None) -> uuid.UUID | None:
    if tenant_id is None or isinstance(tenant_id, uuid.UUID):
        return tenant_id
    return uuid.UUID(str(tenant_id))


@contextmanager
def tenant_context(tenant_id: uuid.UUID | str | None) -> Iterator[None]:
    """Set the tenant for the code inside (the application side only; see tenant_transaction)."""
    token = _tenant.set(_as_uuid(tenant_id))
    try:
        yield
    finally:
        _tenant.reset(token)


def activate_in_db(using: str = "default") -> None:
    """Tell PostgreSQL the current tenant for the rest of the open transaction (row-level security).

    `SET LOCAL` is transaction-local: it ends with the transaction, so a pooled or persistent
    connection can never carry one tenant's setting into another's work. It is `SET LOCAL` rather
    than the equivalent `set_config(..., true)` because Citus forwards SET LOCAL to the worker nodes
    that hold the shards (with `citus.propagate_set_commands = 'local'`, docs/scale.md) and does not
    forward a function call, so row-level security there would see no tenant.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("activate_in_db() must run inside transaction.atomic()")
    tenant_id = _tenant.get()
    # SET takes no bind parameters; the value is a UUID object (hex digits and dashes only: `_as_uuid`
    # parsed it), so writing it into the statement cannot inject anything.
    value = str(uuid.UUID(str(tenant_id))) if tenant_id else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL {GUC} = '{value}'")


@contextmanager
def tenant_transaction(tenant_id: uuid.UUID | str | None, *, using: str = "default") -> Iterator[None]:
    """One transaction working for one tenant, on both sides (application and database).

    Nested inside another tenant's transaction it restores that tenant's database setting on exit.
    """
    previous = _tenant.get()
    with tenant_context(tenant_id), transaction.atomic(using=using):
        activate_in_db(using)
        try:
            yield
        finally:
            if connections[using].in_atomic_block and not connections[using].needs_rollback:
                with tenant_context(previous):
                    _reactivate_outer(using)


def _reactivate_outer(using: str) -> None:
    connection = connections[using]
    # Leaving the block releases its savepoint but not the transaction-local setting; put the outer
    # tenant's back (if the block is the outermost one, the commit clears the setting anyway).
    if connection.vendor == "postgresql" and len(connection.savepoint_ids) > 0:
        activate_in_db(using)


class CurrentTenantId(Expression):
    """The current tenant's id as a query parameter, read when the query is compiled.

    Compiling, not building: a queryset made at import time (a form field's choices, say) is still
    filtered by the tenant of the request that finally runs it, and raises if there is none.
    """

    output_field = models.UUIDField()

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        tenant_id = current_tenant_id()
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Row-level security reads the tenant from the transaction: outside one it sees nothing,
            # which would look like an empty table. Say what is wrong instead.
            raise TenantContextMissing("tenant data read outside a tenant transaction")
        return "%s", [self.output_field.get_db_prep_value(tenant_id, connection)]
