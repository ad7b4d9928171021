"""Changing the audit table behind the application's back, as an attacker with the owner's access would.

On PostgreSQL: a separate connection as the owner, with the append-only trigger disabled for the
moment. On SQLite (no roles): the triggers dropped and put back on the same connection.
"""

from __future__ import annotations

import uuid

import psycopg
from django.db import connection

from core.tenancy.db import APPEND_ONLY_TABLES, append_only_drop_sql, append_only_sql

TABLE = APPEND_ONLY_TABLES[0]


def owner_connection() -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"],
        user=s.get("_OWNER_USER") or s["USER"],
        password=s.get("_OWNER_PASSWORD") or None,
        host=s.get("HOST") or None,
        port=s.get("PORT") or None,
        autocommit=True,
    )


def tamper(statements: list[str], *, tenant_id: uuid.UUID) -> None:
    if connection.vendor == "postgresql":
        with owner_connection() as conn:
            conn.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TABLE}_append_only")
            try:
                for statement in statements:
                    conn.execute(statement, {"t": str(tenant_id)})
            finally:
                conn.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TABLE}_append_only")
        return
    with connection.cursor() as cursor:
        for statement in append_only_drop_sql("sqlite", TABLE):
            cursor.execute(statement)
        try:
            for statement in statements:
                cursor.execute(statement, {"t": tenant_id.hex})
        finally:
            for statement in append_only_sql("sqlite", TABLE):
                cursor.execute(statement)
