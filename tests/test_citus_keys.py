"""Keys that carry the district (issue 22 items 1 and 2): the contract a database distributed by
tenant_id (Citus) needs, read from PostgreSQL's catalog of the migrated test database.

- every primary key, unique constraint and unique index of a tenant table includes tenant_id;
- every foreign key between tenant tables pairs tenant_id with tenant_id; no global table points at one;
- the checker names a deliberately broken table (so a green contract means something);
- every Django key between tenant tables is held by a composite key in the database (Django makes
  none itself: core.tenancy.models turns them off), except the bulk tables proved by their statements;
- migrating an existing database to the new keys keeps every row.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from urllib.parse import quote

import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, models

from core.tenancy.catalog import key_violations, tenant_tables
from core.tenancy.db import REFERENCE_TABLES
from core.tenancy.models import TenantModel

#: Tenant tables whose keys to their parents are proved once per statement by the statement that writes
#: them (a million rows at a time), not by a key per row: docs/architecture.md, "Tenancy: three walls".
PROVED_BY_STATEMENT = {"audits_finding", "audits_registryentry"}


def _tenant_fields():
    for model in apps.get_models():
        if not issubclass(model, TenantModel):
            continue
        for field in model._meta.local_fields:
            target = field.related_model
            if (
                field.is_relation
                and field.name != "tenant"
                and issubclass(target, TenantModel)
                and target._meta.db_table not in REFERENCE_TABLES
            ):
                yield model, field


@pytest.mark.postgres
@pytest.mark.django_db
def test_every_key_of_a_tenant_table_carries_the_tenant():
    with connection.cursor() as cursor:
        assert key_violations(cursor) == []
        tables = tenant_tables(cursor)
    # The contract looked at the tables it is about (an empty catalog would pass it too).
    assert {"students_student", "funding_award", "disbursements_correction", "audits_auditevent"} <= set(tables)


@pytest.mark.postgres
@pytest.mark.django_db
def test_reference_tables_are_tables_with_a_tenant_column():
    """The list of exceptions names real tables (a renamed table would otherwise slip out of it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'tenant_id' AND table_name = ANY (%s)",
            [list(REFERENCE_TABLES)],
        )
        assert {row[0] for row in cursor.fetchall()} == set(REFERENCE_TABLES)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_checker_names_each_broken_key():
    """Temporary tables with one breach each, and a correct pair that must not be named."""
    with connection.cursor() as cursor:
        for statement in [
            "CREATE TEMP TABLE bad_parent (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, code text UNIQUE)",
            "CREATE TEMP TABLE good_parent (tenant_id uuid, id uuid, PRIMARY KEY (tenant_id, id))",
            "CREATE TEMP TABLE bad_child (tenant_id uuid, id uuid, parent_id uuid, other_id uuid, "
            " PRIMARY KEY (tenant_id, id),"
            " CONSTRAINT bad_child_parent_fk FOREIGN KEY (parent_id) REFERENCES bad_parent (id),"
            " CONSTRAINT bad_child_crossed_fk FOREIGN KEY (other_id, tenant_id)"
            " REFERENCES good_parent (tenant_id, id))",
            "CREATE UNIQUE INDEX bad_child_one_per_parent ON bad_child (parent_id)",
            "CREATE TEMP TABLE good_child (tenant_id uuid, id uuid, parent_id uuid, PRIMARY KEY (tenant_id, id),"
            " FOREIGN KEY (tenant_id, parent_id) REFERENCES good_parent (tenant_id, id))",
            "CREATE UNIQUE INDEX good_child_one_per_parent ON good_child (tenant_id, parent_id)",
            "CREATE TEMP TABLE global_thing (id uuid PRIMARY KEY, t uuid, p uuid,"
            " CONSTRAINT global_thing_fk FOREIGN KEY (t, p) REFERENCES good_parent (tenant_id, id))",
        ]:
            cursor.execute(statement)
        found = key_violations(cursor, temporary=True)
    assert found == [
        "bad_child: bad_child_one_per_parent (unique index) does not include tenant_id",
        "bad_parent: bad_parent_code_key (unique constraint) does not include tenant_id",
        "bad_parent: bad_parent_pkey (primary key) does not include tenant_id",
        "bad_child: bad_child_crossed_fk (foreign key) to tenant table good_parent does not pair tenant_id",
        "bad_child: bad_child_parent_fk (foreign key) to tenant table bad_parent does not pair tenant_id",
        "global_thing: global_thing_fk (foreign key) from a global table to tenant table good_parent",
    ]


@pytest.mark.postgres
@pytest.mark.django_db
def test_every_key_between_tenant_tables_is_a_composite_key_in_the_database():
    """Django makes no single-column key between tenant tables (db_constraint=False), so a model whose
    migration forgot its TenantForeignKey would have no key at all: this finds it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, ARRAY(SELECT attname::text FROM pg_attribute "
            "WHERE attrelid = conrelid AND attnum = ANY (conkey)) FROM pg_constraint WHERE contype = 'f'"
        )
        keys = cursor.fetchall()
    missing = [
        f"{model._meta.db_table}.{field.column}"
        for model, field in _tenant_fields()
        if model._meta.db_table not in PROVED_BY_STATEMENT
        and not any(t == model._meta.db_table and {"tenant_id", field.column} <= set(cols) for t, cols in keys)
    ]
    assert missing == []


def test_django_makes_no_single_column_key_between_tenant_tables():
    """Every existing key between tenant tables, and one of a model added now (as the next helper's
    will be), comes with db_constraint=False; keys to global tables keep theirs."""
    assert [f"{m._meta.label}.{f.name}" for m, f in _tenant_fields() if f.db_constraint] == []
    from schools.models import Job

    assert Job._meta.get_field("actor").db_constraint  # accounts: a reference table

    attrs = {
        "__module__": __name__,
        "student": models.ForeignKey("students.Student", on_delete=models.PROTECT, related_name="+"),
        "visitor": models.ForeignKey("schools.User", on_delete=models.PROTECT, related_name="+"),
        "Meta": type("Meta", (), {"app_label": "care"}),
    }
    probe = type("KeysProbe", (TenantModel,), attrs)
    try:
        assert probe._meta.get_field("student").db_constraint is False
        assert probe._meta.get_field("student").deconstruct()[3]["db_constraint"] is False
        assert probe._meta.get_field("visitor").db_constraint is True
        assert probe._meta.get_field("tenant").db_constraint is True
    finally:
        del apps.all_models["care"]["keysprobe"]
        apps.clear_cache()


# --- Migrating an existing database ------------------------------------------------------------------

PREVIOUS = ("disbursements", "0005_batch_build_job")


def _connect(dbname: str) -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        dbname=dbname,
        user=s.get("_OWNER_USER") or s["USER"],
        password=s.get("_OWNER_PASSWORD") or None,
        host=s.get("HOST") or None,
        port=s.get("PORT") or None,
        autocommit=True,
    )


def _counts(conn: psycopg.Connection, tables: list[str]) -> dict[str, int]:
    """Rows per tenant table, counted in each tenant's transaction (row-level security is forced on the
    owner, unless the owner is a superuser: hence the tenant in the WHERE as well)."""
    tenants = [row[0] for row in conn.execute("SELECT id FROM schools_tenant").fetchall()]
    counts = dict.fromkeys(tables, 0)
    for tenant in tenants:
        with conn.transaction():
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant)])
            for table in tables:
                sql = f'SELECT count(*) FROM "{table}" WHERE tenant_id = %s'
                counts[table] += conn.execute(sql, [tenant]).fetchone()[0]
    return counts


def _primary_key(conn: psycopg.Connection, table: str) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "SELECT a.attname FROM pg_constraint k, unnest(k.conkey) WITH ORDINALITY u(n, i), pg_attribute a "
            "WHERE k.conrelid = %s::regclass AND k.contype = 'p' AND a.attrelid = k.conrelid AND a.attnum = u.n "
            "ORDER BY u.i",
            [table],
        ).fetchall()
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_migrating_an_existing_database_keeps_every_row(world):
    """A copy of the test database (with the world's rows) goes back to disbursements' previous
    migration, gets rows written in the old schema, and comes forward again: every row is there, the
    keys are the new ones and the contract holds (for a table made without TenantKeys() as well)."""
    w = world.a
    source = connection.settings_dict["NAME"]
    scratch = f"{source}_keys"[:63]
    connection.close()  # a template database must have no other session
    with _connect("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        admin.execute(f'CREATE DATABASE "{scratch}" TEMPLATE "{source}"')
    try:
        _migrate(scratch, *PREVIOUS)
        with _connect(scratch) as conn:
            tables = [t for t in _tables(conn)]
            assert _primary_key(conn, "disbursements_correction") == ["id"]  # the old schema indeed
            before = _counts(conn, tables)
            assert before["disbursements_correction"] > 0
            assert before["disbursements_recovery"] > 0
            assert sum(before.values()) > 100  # the world's rows, in both districts
            correction_id, recovery_id = uuid.uuid4(), uuid.uuid4()
            with conn.transaction():
                conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(w.tenant.pk)])
                conn.execute(
                    "INSERT INTO disbursements_correction SELECT (jsonb_populate_record(NULL::disbursements_correction,"
                    " to_jsonb(c) || jsonb_build_object('id', %s::text, 'status', 'REJECTED'))).*"
                    " FROM disbursements_correction c WHERE c.id = %s",
                    [str(correction_id), w.correction.pk],
                )
                conn.execute(
                    "INSERT INTO disbursements_recovery SELECT (jsonb_populate_record(NULL::disbursements_recovery,"
                    " to_jsonb(r) || jsonb_build_object('id', %s::text, 'correction_id', %s::text))).*"
                    " FROM disbursements_recovery r WHERE r.id = %s",
                    [str(recovery_id), str(correction_id), w.recovery.pk],
                )
            # A table made by a migration that forgot its TenantKeys() (as a branch written before
            # this one would): migrate's post_migrate gives it keys that carry the tenant.
            conn.execute("CREATE TABLE keys_probe (id uuid PRIMARY KEY, tenant_id uuid NOT NULL)")
        _migrate(scratch)
        with _connect(scratch) as conn:
            assert _primary_key(conn, "keys_probe") == ["tenant_id", "id"]
            after = _counts(conn, tables)
            expected = {
                **before,
                "disbursements_correction": before["disbursements_correction"] + 1,
                "disbursements_recovery": before["disbursements_recovery"] + 1,
            }
            assert after == expected
            with conn.transaction():
                conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(w.tenant.pk)])
                found = conn.execute(
                    "SELECT c.id, r.id FROM disbursements_recovery r JOIN disbursements_correction c"
                    " ON c.tenant_id = r.tenant_id AND c.id = r.correction_id WHERE r.id = %s",
                    [recovery_id],
                ).fetchone()
            assert found == (correction_id, recovery_id)
            for table in tables:
                assert _primary_key(conn, table)[0] == "tenant_id", table
            with conn.cursor() as cursor:
                assert key_violations(cursor) == []
    finally:
        with _connect("postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_public_notices_become_distributed_and_keep_every_row(world):
    """students_publicnotice, a reference table before, is keyed (tenant_id, token) after its migration
    (issue 22 item 3), on a copy of the test database with notices of both districts written in the old
    schema: every notice is there, and the old link's token alone still finds one."""
    source = connection.settings_dict["NAME"]
    scratch = f"{source}_notice"[:63]
    connection.close()
    with _connect("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        admin.execute(f'CREATE DATABASE "{scratch}" TEMPLATE "{source}"')
    try:
        _migrate(scratch, "students", "0014")
        with _connect(scratch) as conn:
            assert _primary_key(conn, "students_publicnotice") == ["token"]
            tokens = {}
            for w in (world.a, world.b):
                tokens[w.tenant.pk] = uuid.uuid4()
                conn.execute(
                    "INSERT INTO students_publicnotice (token, tenant_id, title, school_name, starts_on, ends_on, rows,"
                    " created_at) VALUES (%s, %s, '公示', '学校', '2026-09-01', '2026-09-07', '[]', now())",
                    [tokens[w.tenant.pk], w.tenant.pk],
                )
            before = conn.execute("SELECT tenant_id, token FROM students_publicnotice ORDER BY 1, 2").fetchall()
            assert len(before) >= 2
        _migrate(scratch)
        with _connect(scratch) as conn:
            assert _primary_key(conn, "students_publicnotice") == ["tenant_id", "token"]
            after = conn.execute("SELECT tenant_id, token FROM students_publicnotice ORDER BY 1, 2").fetchall()
            assert after == before
            plan = "\n".join(
                row[0]
                for row in conn.execute(
                    "EXPLAIN SELECT * FROM students_publicnotice WHERE token = %s", [tokens[world.b.tenant.pk]]
                ).fetchall()
            )
            assert "students_publicnotice_token_scale" in plan or "Seq Scan" in plan  # a tiny table may be scanned
            with conn.cursor() as cursor:
                assert key_violations(cursor) == []
    finally:
        with _connect("postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')


def _migrate(dbname: str, *target: str) -> None:
    """`manage.py migrate` as the owner, in a process of its own (as a deployment runs it; the test's
    own process may only reach the test database)."""
    s = connection.settings_dict
    url = "postgres://{user}:{password}@{host}:{port}/{name}".format(
        user=quote(s.get("_OWNER_USER") or s["USER"], safe=""),
        password=quote(s.get("_OWNER_PASSWORD") or "", safe=""),
        host=s.get("HOST") or "127.0.0.1",
        port=s.get("PORT") or 5432,
        name=dbname,
    )
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "manage.py", "migrate", "--noinput", "-v0", *target]
    subprocess.run(command, cwd=settings.BASE_DIR, env=env, check=True, timeout=600)


def _tables(conn: psycopg.Connection) -> list[str]:
    with conn.cursor() as cursor:
        return tenant_tables(cursor)


@pytest.mark.django_db
def test_an_aggregate_over_a_tenant_table_groups_by_what_it_selects(world, tenant_of):
    """With (tenant_id, id) as the primary key, grouping by `id` alone no longer covers the other
    columns (PostgreSQL refused the schools page); Django now groups by the selected columns."""
    from django.db.models import Count

    from schools.models import School

    with tenant_of(world.a.tenant):
        rows = list(School.objects.annotate(grades_count=Count("grades")).order_by("pk"))
    assert rows
    assert all(r.grades_count >= 0 for r in rows)
