"""The tenant wall inside PostgreSQL, as migration operations and post-migrate grants.

- `EnableRowLevelSecurity`: row-level security enabled *and forced* on a tenant table, with one policy:
  a row is visible and writable only while the transaction's `app.tenant_id` names its tenant.
- `TenantForeignKey`: a composite foreign key (tenant_id, parent_id) → parent (tenant_id, id), so a
  row can never point at a parent row of another tenant (Django's own single-column key cannot say so,
  and PostgreSQL checks foreign keys without row-level security).
- `AppendOnly`: a trigger that refuses UPDATE and DELETE on a table, to everyone.
- `grant_app_role`: after every migrate, the app role gets DML on the tables (not ownership, not
  BYPASSRLS; UPDATE and DELETE withheld on append-only tables).

On SQLite the first two are no-ops (the application layer holds the same rules); AppendOnly works on
both.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.db import IntegrityError, ProgrammingError, connections, transaction
from django.db.migrations.operations.base import Operation

logger = logging.getLogger(__name__)

POLICY = "tenant_isolation"
TENANT_EXPR = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"

#: Tables whose rows are never updated or deleted by the application (the audit trail first: the
#: tampering tests take it; then the periodic reports' snapshots, oversight.0001).
APPEND_ONLY_TABLES = ("audits_auditevent", "oversight_reportsnapshot")
#: Tables the application updates but never deletes from: a tenant's audit chain head only moves on
#: (deleting it would let the chain restart unseen).
NO_DELETE_TABLES = ("audits_auditchainhead",)


def _table(state: Any, app_label: str, model_name: str) -> Any:
    return state.apps.get_model(app_label, model_name)._meta


def _qn(schema_editor: Any, name: str) -> str:
    return schema_editor.quote_name(name)


class EnableRowLevelSecurity(Operation):
    """Enable and force row-level security on a tenant table, with the tenant isolation policy."""

    reversible = True
    reduces_to_sql = True

    def __init__(
        self, model_name: str, tenant_column: str = "tenant_id", readable_without_tenant: bool = False
    ) -> None:
        self.model_name = model_name
        self.tenant_column = tenant_column
        # A global table with a tenant column (accounts, public notices): rows are read before any
        # tenant is known (sign-in, the public page), so without a tenant every row is visible; inside
        # a tenant's transaction only that tenant's rows are, and only those can be written.
        self.readable_without_tenant = readable_without_tenant

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"model_name": self.model_name}
        if self.tenant_column != "tenant_id":
            kwargs["tenant_column"] = self.tenant_column
        if self.readable_without_tenant:
            kwargs["readable_without_tenant"] = True
        return self.__class__.__name__, [], kwargs

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = _qn(schema_editor, _table(to_state, app_label, self.model_name).db_table)
        column = _qn(schema_editor, self.tenant_column)
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        rule = f"{column} = {TENANT_EXPR}"
        seen = f"({rule} OR {TENANT_EXPR} IS NULL)" if self.readable_without_tenant else rule
        schema_editor.execute(f"CREATE POLICY {POLICY} ON {table} USING ({seen}) WITH CHECK ({seen})")

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = _qn(schema_editor, _table(from_state, app_label, self.model_name).db_table)
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self) -> str:
        return f"Enable row-level security on {self.model_name}"


class TenantForeignKey(Operation):
    """(tenant_id, <columns>) → <target>(tenant_id, <target columns>): the parent row belongs to the
    same tenant. The target must declare a unique constraint on exactly those columns."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, columns: list[str], to: str, to_columns: list[str]) -> None:
        self.model_name = model_name
        self.columns = columns
        self.to = to
        self.to_columns = to_columns

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = {
            "model_name": self.model_name,
            "columns": self.columns,
            "to": self.to,
            "to_columns": self.to_columns,
        }
        return self.__class__.__name__, [], kwargs

    def constraint_name(self, table: str) -> str:
        digest = hashlib.sha1(f"{table}:{','.join(self.columns)}".encode(), usedforsecurity=False).hexdigest()[:8]
        return f"{table[:40]}_tenant_fk_{digest}"

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        meta = _table(to_state, app_label, self.model_name)
        target = _table(to_state, *self.to.split("."))
        cols = ", ".join(_qn(schema_editor, c) for c in ["tenant_id", *self.columns])
        to_cols = ", ".join(_qn(schema_editor, c) for c in ["tenant_id", *self.to_columns])
        schema_editor.execute(
            f"ALTER TABLE {_qn(schema_editor, meta.db_table)} ADD CONSTRAINT "
            f"{_qn(schema_editor, self.constraint_name(meta.db_table))} FOREIGN KEY ({cols}) "
            f"REFERENCES {_qn(schema_editor, target.db_table)} ({to_cols}) DEFERRABLE INITIALLY DEFERRED"
        )

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        meta = _table(from_state, app_label, self.model_name)
        schema_editor.execute(
            f"ALTER TABLE {_qn(schema_editor, meta.db_table)} DROP CONSTRAINT IF EXISTS "
            f"{_qn(schema_editor, self.constraint_name(meta.db_table))}"
        )

    def describe(self) -> str:
        return f"Tenant-consistent foreign key {self.model_name}({', '.join(self.columns)}) → {self.to}"


class DropTenantForeignKey(TenantForeignKey):
    """The reverse of TenantForeignKey, for a bulk table whose writing statement proves the same
    thing once for all its rows (PostgreSQL checks a foreign key row by row: about 3 µs a row, seconds
    for a million)."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        super().database_backwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"Drop the tenant-consistent foreign key {self.model_name}({', '.join(self.columns)}) → {self.to}"


class AppendOnly(Operation):
    """A trigger refusing UPDATE and DELETE on the table (PostgreSQL and SQLite)."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return self.__class__.__name__, [], {"model_name": self.model_name}

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        table = _table(to_state, app_label, self.model_name).db_table
        for statement in append_only_sql(schema_editor.connection.vendor, table):
            schema_editor.execute(statement)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        table = _table(from_state, app_label, self.model_name).db_table
        for statement in append_only_drop_sql(schema_editor.connection.vendor, table):
            schema_editor.execute(statement)

    def describe(self) -> str:
        return f"Make {self.model_name} append-only"


def append_only_sql(vendor: str, table: str) -> list[str]:
    """The statements that make `table` refuse UPDATE and DELETE, for everyone."""
    if vendor == "postgresql":
        return [
            f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{table} is append-only' "
            f"USING ERRCODE = 'insufficient_privilege'; END $$",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
        ]
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            for verb in ("UPDATE", "DELETE")
        ]
    return []


def append_only_drop_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"DROP FUNCTION IF EXISTS {table}_append_only()",
        ]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{verb}" for verb in ("update", "delete")]
    return []


def grant_app_role(using: str = "default", *, role: str) -> None:
    """Create the app role if it is missing (when the owner may) and grant it DML on every table.

    Runs after each migrate, as the owner. The role gets no ownership, no BYPASSRLS, no TRUNCATE, and no
    UPDATE or DELETE on append-only tables.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == role:
            return  # migrating as the app role itself: nothing to grant (and it could not)
        cursor.execute("SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            cursor.execute("SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user")
            if not cursor.fetchone()[0]:
                logger.warning("app role %s does not exist and this user may not create it", role)
                return
            name = connection.ops.quote_name(role)
            # Roles belong to the cluster, not the database: two databases migrated at once (the test
            # suite's parallel processes) may both find it missing. The second one's CREATE fails and
            # the role it wanted is there; a savepoint keeps the migration's transaction usable.
            try:
                with transaction.atomic(using=using):
                    cursor.execute(f"CREATE ROLE {name} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
            except (IntegrityError, ProgrammingError):
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
                if cursor.fetchone() is None:
                    raise
        elif row[0]:
            raise RuntimeError(f"the app role {role} must not be a superuser or bypass row-level security")
        name = connection.ops.quote_name(role)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {name}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}")
        for table in APPEND_ONLY_TABLES:
            cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {connection.ops.quote_name(table)} FROM {name}")
        for table in NO_DELETE_TABLES:
            cursor.execute(f"REVOKE DELETE, TRUNCATE ON {connection.ops.quote_name(table)} FROM {name}")
