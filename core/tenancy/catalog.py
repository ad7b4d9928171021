"""What PostgreSQL's catalog says about the tenant keys: the contract a database distributed by tenant
(Citus) needs, read from `pg_constraint`, `pg_index` and `pg_attribute`.

A *tenant table* is a table with a `tenant_id` column that is not listed in `db.REFERENCE_TABLES`.
Citus shards a tenant table by `tenant_id`, so it can only enforce a primary key or a unique index that
contains `tenant_id`, and a foreign key between two tenant tables that matches `tenant_id` with
`tenant_id`. A global table (reference table, copied to every node) may not point at a tenant table.

`key_violations()` lists every breach, one line naming the table and the constraint or index.
`tests/test_citus_keys.py` requires it to be empty for the migrated database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .db import REFERENCE_TABLES

TENANT_COLUMN = "tenant_id"

# Tables of the namespace, with the attribute number of their tenant column (NULL: none).
_TABLES = """
SELECT c.oid, c.relname, a.attnum
FROM pg_class c
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = %(col)s AND NOT a.attisdropped
WHERE c.relnamespace = {namespace} AND c.relkind IN ('r', 'p')
"""

# Unique indexes (primary keys, unique constraints, unique indexes) on tenant tables without the
# tenant column among their key columns.
_UNIQUE = """
SELECT t.relname, COALESCE(k.conname, i.relname),
       CASE WHEN x.indisprimary THEN 'primary key' WHEN k.oid IS NOT NULL THEN 'unique constraint'
            ELSE 'unique index' END
FROM tables t
JOIN pg_index x ON x.indrelid = t.oid AND x.indisunique
JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_constraint k ON k.conindid = x.indexrelid AND k.conrelid = t.oid AND k.contype IN ('p', 'u')
WHERE t.tenant_attnum IS NOT NULL AND NOT t.reference
  AND NOT (t.tenant_attnum = ANY (x.indkey[0:x.indnkeyatts - 1]))
ORDER BY 1, 2
"""

# Foreign keys from a tenant table to another one that do not pair tenant_id with tenant_id, and any
# foreign key from a global table to a tenant table.
_FOREIGN = """
SELECT src.relname, k.conname, dst.relname, src.tenant_attnum IS NOT NULL AND NOT src.reference
FROM pg_constraint k
JOIN tables src ON src.oid = k.conrelid
JOIN tables dst ON dst.oid = k.confrelid
WHERE k.contype = 'f' AND dst.tenant_attnum IS NOT NULL AND NOT dst.reference
  AND (src.tenant_attnum IS NULL OR src.reference
       OR array_position(k.conkey, src.tenant_attnum) IS NULL
       OR array_position(k.conkey, src.tenant_attnum) IS DISTINCT FROM array_position(k.confkey, dst.tenant_attnum))
ORDER BY 1, 2
"""


def _with_tables(namespace: str, query: str) -> str:
    # Only constant SQL of this module is put together here; the values travel as parameters.
    return (
        f"WITH raw AS ({_TABLES.format(namespace=namespace)}), "  # noqa: S608
        "tables AS (SELECT oid, relname, attnum AS tenant_attnum, "
        "relname = ANY (%(reference)s) AS reference FROM raw) "
        f"{query}"
    )


def key_violations(
    cursor: Any, *, reference_tables: Iterable[str] = REFERENCE_TABLES, temporary: bool = False
) -> list[str]:
    """Every primary key, unique constraint or index, and foreign key that a database distributed by
    tenant_id could not keep, as "table: constraint (kind) …" lines; [] when there is none.

    `temporary`: look at this session's temporary tables instead of the public schema (the test
    builds deliberately broken tables there)."""
    namespace = "pg_my_temp_schema()" if temporary else "'public'::regnamespace"
    params = {"col": TENANT_COLUMN, "reference": list(reference_tables)}
    found = []
    cursor.execute(_with_tables(namespace, _UNIQUE), params)
    for table, name, kind in cursor.fetchall():
        found.append(f"{table}: {name} ({kind}) does not include {TENANT_COLUMN}")
    cursor.execute(_with_tables(namespace, _FOREIGN), params)
    for table, name, target, from_tenant_table in cursor.fetchall():
        if from_tenant_table:
            found.append(f"{table}: {name} (foreign key) to tenant table {target} does not pair {TENANT_COLUMN}")
        else:
            found.append(f"{table}: {name} (foreign key) from a global table to tenant table {target}")
    return found


def tenant_tables(cursor: Any, *, reference_tables: Iterable[str] = REFERENCE_TABLES) -> list[str]:
    """The public tables distributed by tenant_id (for docs/scale.md and the tests)."""
    cursor.execute(
        _with_tables(
            "'public'::regnamespace",
            "SELECT relname FROM tables WHERE tenant_attnum IS NOT NULL AND NOT reference ORDER BY 1",
        ),
        {"col": TENANT_COLUMN, "reference": list(reference_tables)},
    )
    return [row[0] for row in cursor.fetchall()]
