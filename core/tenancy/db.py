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
#: The policy of a platform table: rows only for a transaction that names no tenant (PlatformOnly).
PLATFORM_POLICY = "platform_only"
TENANT_EXPR = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"

#: Tables whose rows are never updated or deleted by the application (the audit trail first: the
#: tampering tests take it; then the periodic reports' snapshots, oversight.0001).
APPEND_ONLY_TABLES = ("audits_auditevent", "oversight_reportsnapshot")
#: Tables the application updates but never deletes from: a tenant's audit chain head only moves on
#: (deleting it would let the chain restart unseen).
NO_DELETE_TABLES = ("audits_auditchainhead",)
#: Tables with a tenant column that are *not* distributed by it (Citus reference tables, copied whole
#: to every node), and why. Every other table with a tenant_id column is a tenant table: its primary
#: key, unique constraints and keys to other tenant tables all carry tenant_id (tests/test_citus_keys.py).
REFERENCE_TABLES: dict[str, str] = {
    # Sign-in finds the account by username before any tenant is known, and usernames are unique
    # across the platform: the lookup must reach one table, not every district's shard.
    "schools_user": "accounts: read by username before the tenant is known",
}


def _table(state: Any, app_label: str, model_name: str) -> Any:
    return state.apps.get_model(app_label, model_name)._meta


def _qn(schema_editor: Any, name: str) -> str:
    return schema_editor.quote_name(name)


def _policy_on(schema_editor: Any, table: str, policy: str, rule: str) -> None:
    """Row-level security enabled and forced on `table` (the owner too), with one policy `rule` for
    reading and writing."""
    schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    schema_editor.execute(f"DROP POLICY IF EXISTS {policy} ON {table}")
    schema_editor.execute(f"CREATE POLICY {policy} ON {table} USING ({rule}) WITH CHECK ({rule})")


def _policy_off(schema_editor: Any, table: str, policy: str) -> None:
    schema_editor.execute(f"DROP POLICY IF EXISTS {policy} ON {table}")
    schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


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
        rule = f"{column} = {TENANT_EXPR}"
        _policy_on(
            schema_editor, table, POLICY, f"({rule} OR {TENANT_EXPR} IS NULL)" if self.readable_without_tenant else rule
        )

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = _qn(schema_editor, _table(from_state, app_label, self.model_name).db_table)
        _policy_off(schema_editor, table, POLICY)

    def describe(self) -> str:
        return f"Enable row-level security on {self.model_name}"


class _OnOneTable(Operation):
    """A database-only operation on one model's table (no change to the migration state)."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return self.__class__.__name__, [], {"model_name": self.model_name}


class PlatformOnly(_OnOneTable):
    """Row-level security, enabled and forced, on a PLATFORM table (no tenant's rows: the matching of
    pupils across districts, `audits.PlatformFact`): a row is visible and writable only while the
    transaction names NO tenant. Inside any district's transaction the table is empty to the app role,
    raw SQL included; the platform's own work sets no tenant."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = _qn(schema_editor, _table(to_state, app_label, self.model_name).db_table)
        _policy_on(schema_editor, table, PLATFORM_POLICY, f"{TENANT_EXPR} IS NULL")

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = _qn(schema_editor, _table(from_state, app_label, self.model_name).db_table)
        _policy_off(schema_editor, table, PLATFORM_POLICY)

    def describe(self) -> str:
        return f"Platform-only row-level security on {self.model_name}"


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


class AppendOnly(_OnOneTable):
    """A trigger refusing UPDATE and DELETE on the table (PostgreSQL and SQLite)."""

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


class TenantKeys(Operation):
    """The keys of this app's tenant tables carry the tenant, read from and written to the catalog
    (PostgreSQL only; idempotent: run it twice, or on a table made right already, and nothing changes).

    For every tenant table of the app (a table with tenant_id, not in REFERENCE_TABLES):
    - drops each foreign key from or to it, between two tenant tables, that does not pair tenant_id
      with tenant_id (the single-column keys Django made beside the composite ones: the composite key
      proves the same parent and the tenant; a distributed database refuses the single one). Keys into
      this table from apps migrated later are dropped here too: they hang on the old primary key.
    - turns a primary key without tenant_id, e.g. (id), into (tenant_id, id) under the same name.
      Django keeps `id` as the model's pk (see docs/architecture.md, "Keys that carry the district").

    Backwards: the primary key goes back to the model's pk column; the dropped single-column keys are
    not made again (the composite keys hold the same rule), so migrating back and forth keeps working
    whatever the order the apps are unapplied in.
    """

    reversible = True
    reduces_to_sql = False

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return self.__class__.__name__, [], {}

    @staticmethod
    def _tables(app_label: str, state: Any, connection: Any) -> list[str]:
        tables = [m._meta.db_table for m in state.apps.get_app_config(app_label).get_models()]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
                "AND a.attname = 'tenant_id' AND NOT a.attisdropped "
                "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') "
                "AND c.relname = ANY (%s) AND NOT c.relname = ANY (%s) ORDER BY 1",
                [tables, list(REFERENCE_TABLES)],
            )
            return [row[0] for row in cursor.fetchall()]

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        for statement in tenant_keys_sql(connection, self._tables(app_label, to_state, connection)):
            schema_editor.execute(statement)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        qn = schema_editor.quote_name
        tables = self._tables(app_label, from_state, connection)
        columns = {m._meta.db_table: m._meta.pk.column for m in from_state.apps.get_app_config(app_label).get_models()}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, k.conname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
                "WHERE k.contype = 'p' AND c.relname = ANY (%s) AND cardinality(k.conkey) > 1 ORDER BY 1",
                [tables],
            )
            for table, name in cursor.fetchall():
                if columns.get(table, "tenant_id") == "tenant_id":
                    continue
                schema_editor.execute(
                    f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}, "
                    f"ADD CONSTRAINT {qn(name)} PRIMARY KEY ({qn(columns[table])})"
                )

    def describe(self) -> str:
        return "Primary keys and keys between tenant tables carry tenant_id"


def tenant_keys_sql(connection: Any, tables: list[str]) -> list[str]:
    """The statements that make the keys of these tenant tables carry the tenant (see TenantKeys);
    [] when they all do already."""
    qn = connection.ops.quote_name
    statements: list[str] = []
    with connection.cursor() as cursor:
        # Single-column keys between tenant tables (those that do not pair tenant_id).
        cursor.execute(
            "SELECT k.conrelid::regclass::text, k.conname FROM pg_constraint k "
            "JOIN pg_attribute s ON s.attrelid = k.conrelid AND s.attname = 'tenant_id' "
            "JOIN pg_attribute d ON d.attrelid = k.confrelid AND d.attname = 'tenant_id' "
            "WHERE k.contype = 'f' AND (k.conrelid::regclass::text = ANY (%s) "
            "OR k.confrelid::regclass::text = ANY (%s)) "
            "AND NOT k.conrelid::regclass::text = ANY (%s) AND NOT k.confrelid::regclass::text = ANY (%s) "
            "AND array_position(k.conkey, s.attnum) IS NOT DISTINCT FROM NULL "
            "ORDER BY 1, 2",
            [tables, tables, list(REFERENCE_TABLES), list(REFERENCE_TABLES)],
        )
        for table, name in cursor.fetchall():
            statements.append(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
        # Primary keys without tenant_id.
        cursor.execute(
            "SELECT c.relname, k.conname, ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i) "
            "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i)::text[] "
            "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            "WHERE k.contype = 'p' AND c.relname = ANY (%s) AND NOT 'tenant_id' = ANY ("
            "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)) "
            "ORDER BY 1",
            [tables],
        )
        for table, name, columns in cursor.fetchall():
            cols = ", ".join(qn(c) for c in ["tenant_id", *columns])
            statements.append(
                f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}, ADD CONSTRAINT {qn(name)} PRIMARY KEY ({cols})"
            )
    return statements


def tenant_keys_after_migrate(using: str = "default", plan: Any = None) -> None:
    """After every forward migrate: the keys of every tenant table carry the tenant, including a table
    a new migration made without a TenantKeys() operation (so the next model comes out right without
    a word in its migration). Reads the catalog only when there is nothing to change (a flush as the
    app role, a migrate with nothing new). Not after a backward migrate: going back to an older state
    is the point of it."""
    connection = connections[using]
    if connection.vendor != "postgresql" or any(backwards for _migration, backwards in plan or []):
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
            "AND a.attname = 'tenant_id' AND NOT a.attisdropped "
            "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') "
            "AND NOT c.relname = ANY (%s) ORDER BY 1",
            [list(REFERENCE_TABLES)],
        )
        tables = [row[0] for row in cursor.fetchall()]
    statements = tenant_keys_sql(connection, tables)
    if statements:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            for statement in statements:
                logger.warning("tenant keys: %s", statement)
                cursor.execute(statement)


def group_by_whole_rows(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Django groups an aggregate query by a table's `id` alone when `id` is its primary key, since
    PostgreSQL then knows every other column depends on it. A tenant table's primary key is
    (tenant_id, id) in the database while Django's pk is `id`: PostgreSQL refuses that GROUP BY
    ("must appear in the GROUP BY clause"). For tenant models Django lists the selected columns in the
    GROUP BY instead; other models keep the short form."""
    if connection.vendor != "postgresql":
        return
    from .models import TenantModel

    def on_model(model: Any) -> bool:
        return bool(model._meta.managed) and not issubclass(model, TenantModel)

    connection.features.allows_group_by_selected_pks_on_model = on_model
