"""Raw SQL over registry snapshots: ids spelled as each database stores them, and planner guidance
for joins over a snapshot imported moments ago.

A fresh snapshot has no planner statistics (only the table's owner may ANALYZE, and the app role is
not the owner; autovacuum comes later). PostgreSQL then estimates the snapshot's rows blind, often
as a handful, and picks nested loops: once per registry row it probes the other side, which for a
million rows is minutes, not seconds (an anti-join of two million-row snapshots was cancelled after
60 s; hashed, under a second: bench/snapshot_compare.sql). Hash joins are right for every join that
reads a whole snapshot (the reconciliation's match), so it runs with nested loops off. (The
comparison with the previous snapshot avoids joins altogether: it groups.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

from core.tenancy.context import current_tenant_id


def db_uuid(value: Any) -> str:
    """A UUID as a raw statement's parameter must spell it: 32 hex digits on SQLite (as Django stores
    it there), the canonical text on PostgreSQL."""
    return value.hex if connection.vendor == "sqlite" else str(value)


def tenant_param() -> str:
    """The current tenant as a raw statement's parameter: raw SQL names its tenant in every statement,
    row-level security or not (the policy is the wall; the WHERE is the query, and on SQLite the only
    one). The one place raw SQL reads the tenant context."""
    return db_uuid(current_tenant_id())


@contextmanager
def whole_snapshot_joins() -> Iterator[None]:
    """Nested loops off for the statements inside, on PostgreSQL within a transaction (the setting is
    transaction-local: a failure rolls it back with everything else); elsewhere nothing."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_nestloop'), set_config('enable_nestloop', 'off', true)")
        before = cursor.fetchone()[0]
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('enable_nestloop', %s, true)", [before])
