"""The statements that write a chunk: TEMP staging tables loaded with COPY (PostgreSQL) or executemany
(SQLite), then one INSERT … SELECT or UPDATE … FROM each; and how a list of values travels as one
parameter."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL

from core.pgcopy import copy_line

from .context import ApplyContext
from .tables import Table


def any_of(values: list[Any]) -> RawSQL:
    """`field__in=any_of(values)`: the values travel as one parameter, not one per value (a 5,000-item
    IN list costs PostgreSQL's client-side binding about 0.3 s to quote; this costs 0.04 s)."""
    uuids = bool(values) and isinstance(values[0], uuid.UUID)
    if connection.vendor == "postgresql":
        cast = "::uuid" if uuids else ""
        return RawSQL(f"SELECT unnest(string_to_array(%s, ',')){cast}", [",".join(map(str, values))])  # noqa: S611
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps([v.hex if uuids else v for v in values])])


def secret_columns(secrets: dict[str, str | None]) -> list[str]:
    """The encrypted columns and their blind indexes (attname → its blind index's, or None), in order."""
    return [c for attname, digest in secrets.items() for c in (attname, digest) if c]


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


class Stage:
    """TEMP staging tables shaped like the target table (CREATE … AS SELECT … WHERE 1 = 0), loaded
    with COPY on PostgreSQL and executemany elsewhere, then written with one statement each.

    The SQL is composed of identifiers only (model tables and columns, quoted); every value travels as
    a parameter or through COPY.
    """

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.vendor = connection.vendor
        self.qn = connection.ops.quote_name

    def _load(self, table: Table, columns: list[str], rows: list[list[Any]]) -> str:
        qn = self.qn
        stage = qn(f"roster_stage_{table.name}")
        cols = ", ".join(qn(c) for c in columns)
        self.cursor.execute(f"DROP TABLE IF EXISTS {stage}")
        self.cursor.execute(f"CREATE TEMP TABLE {stage} AS SELECT {cols} FROM {qn(table.name)} WHERE 1 = 0")  # noqa: S608
        if self.vendor == "postgresql":
            # Rows prepared while reading come as COPY lines already (pipeline); the others are
            # formatted the same way here.
            lines = [row if row.__class__ is str else copy_line(row) for row in rows]
            with self.cursor.cursor.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
                copy.write("".join(lines).encode())
        else:
            insert = f"INSERT INTO {stage} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
            converters = list(enumerate(table.sqlite_converters(columns)))
            converters = [(i, c) for i, c in converters if c is not None]
            for row in rows:
                for i, convert in converters:
                    if row[i] is not None:
                        row[i] = convert(row[i])
            self.cursor.executemany(insert, rows)
        return stage

    def insert(
        self, table: Table, rows: list[list[Any]], ctx: ApplyContext, now: dt.datetime, *, returning: bool = False
    ) -> set[str]:
        """INSERT … SELECT the rows (table.row_columns) from a staging table; the tenant and the times
        (table.shared) are parameters of the statement. With `returning`, a row that conflicts with one
        written meanwhile is skipped, and the ids of those inserted are returned (as str(UUID))."""
        qn = self.qn
        stage = self._load(table, table.row_columns, rows)
        values = {"tenant_id": ctx.tenant_id, "created_at": now, "updated_at": now}
        shared = [table.by_column[c].get_db_prep_value(values[c], connection) for c in table.shared]
        cols = ", ".join(qn(c) for c in table.row_columns)
        targets = ", ".join(qn(c) for c in [*table.shared, *table.row_columns])
        marks = "".join("%s, " for _c in shared)
        # "WHERE 1 = 1": SQLite needs a WHERE to tell ON CONFLICT from a join's ON after a SELECT.
        sql = f"INSERT INTO {qn(table.name)} ({targets}) SELECT {marks}{cols} FROM {stage} WHERE 1 = 1"  # noqa: S608
        postgresql = self.vendor == "postgresql"
        if returning:  # ids as text: 5,000 of them compare as strings, never parsed into UUIDs
            sql += f" ON CONFLICT DO NOTHING RETURNING {qn('id')}{'::text' if postgresql else ''}"
        self.cursor.execute(sql, shared)
        inserted = set()
        if returning:
            found = [r[0] for r in self.cursor.fetchall()]
            inserted = set(found) if postgresql else {str(_uuid(pk)) for pk in found}
        self.cursor.execute(f"DROP TABLE {stage}")
        return inserted

    def update(self, table: Table, columns: list[str], rows: list[list[Any]], *, keep: dict[str, str | None]) -> None:
        """UPDATE … FROM the staging table by id; columns in `keep` (and their blind indexes) keep the
        stored value where the staging row holds NULL."""
        qn = self.qn
        stage = self._load(table, columns, rows)
        target = qn(table.name)
        kept = set(secret_columns(keep))
        sets = ", ".join(
            f"{qn(c)} = COALESCE(s.{qn(c)}, {target}.{qn(c)})" if c in kept else f"{qn(c)} = s.{qn(c)}"
            for c in columns[1:]
        )
        where = f"{target}.{qn('id')} = s.{qn('id')}"
        self.cursor.execute(f"UPDATE {target} SET {sets} FROM {stage} AS s WHERE {where}")  # noqa: S608
        self.cursor.execute(f"DROP TABLE {stage}")
