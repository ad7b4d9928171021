"""The tenant wall inside PostgreSQL, tested as the app role for every tenant table.

The tables are enumerated from the models: a new model with a tenant column and no policy fails here.
Raw SQL on purpose: the database's own rules are under test, not the ORM's.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction

from schools.models import User
from students.models import PublicNotice

pytestmark = pytest.mark.postgres

#: Global tables with a tenant column: walled inside a tenant's transaction, but readable without one
#: (tested below, not by the tenant-table tests, which expect nothing at all without a tenant).
EXEMPT = {
    # Sign-in must find the account before any tenant is known.
    User,
    # The public page of a publicity, read without login (masked names, grades, tiers only).
    PublicNotice,
}


def tenant_tables() -> list[tuple[type, str]]:
    found = []
    for model in apps.get_models():
        if model in EXEMPT:
            continue
        if any(f.name == "tenant" for f in model._meta.concrete_fields):
            found.append((model, model._meta.db_table))
    return found


def _set_tenant(cursor, tenant_id) -> None:
    cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id) if tenant_id else ""])


def _count(cursor, table: str, where: str = "", params=()) -> int:
    cursor.execute(f"SELECT count(*) FROM {table} {where}", params)
    return cursor.fetchone()[0]


def test_the_suite_runs_as_the_app_role_that_neither_owns_nor_bypasses(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        user, is_super, bypass = cursor.fetchone()
        assert user == settings.DATABASE_APP_ROLE
        assert not is_super
        assert not bypass
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")
        assert cursor.fetchone()[0] == 0


def test_the_enumeration_finds_the_tenant_tables():
    names = {table for _, table in tenant_tables()}
    assert {"students_student", "schools_school", "audits_auditevent", "audits_auditchainhead"} <= names


@pytest.mark.parametrize(("model", "table"), tenant_tables(), ids=lambda v: v if isinstance(v, str) else "")
def test_row_level_security_is_enabled_forced_and_has_the_policy(db, model, table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [table])
        assert cursor.fetchone() == (True, True)
        cursor.execute(
            "SELECT count(*) FROM pg_policies WHERE tablename = %s AND policyname = 'tenant_isolation'",
            [table],
        )
        assert cursor.fetchone()[0] == 1


@pytest.fixture
def full_world(world, tenant_of):
    """The test world plus, in each tenant, what the registry and reconciliation tables hold: a column
    mapping, a snapshot with its rows, a run with its findings (made here, not in every world, because
    the reconciliation tests count runs and snapshots from none)."""
    import io

    from audits.reconciliation.services import reconciliation_run
    from audits.registry.services import mapping_save, registry_import
    from schools.permissions import Role
    from tests.money import identify

    for w in (world.a, world.b):
        with tenant_of(w.tenant):
            district = w.users[Role.DISTRICT_STAFF]
            mapping = mapping_save(
                actor=district, source="CIVIL", name="民政", columns={"name": "姓名", "id_number": "身份证号"},
                default_category="DIBAO",
            )  # fmt: skip
            pupil = w.students["c2"][0]
            data = f"姓名,身份证号\n{pupil.name},{pupil.id_number.reveal()}\n".encode()
            registry_import(
                actor=district, source="CIVIL", file=io.BytesIO(data), file_name="civil.csv", mapping=mapping
            )
            run, _created = reconciliation_run(actor=district, semester=w.semester)
            assert run.findings.exists()
            # An identified pupil: a row of the dashboard's identified summary (the world identifies none).
            identify(w, w.students["c3"][0])
    # The platform's matching across districts tells each district of a pupil funded in both.
    from audits.crossdistrict.services import crossdistrict_match
    from audits.tests.test_crossdistrict import fund, twin

    with tenant_of(world.b.tenant):
        fund(world.b, twin(world.b, world.a.students["c1"][0], name="乙双一"))
    assert crossdistrict_match(semesters=["2026-AUTUMN"]).told == 2
    return world


@pytest.mark.parametrize(("model", "table"), tenant_tables(), ids=lambda v: v if isinstance(v, str) else "")
def test_no_tenant_reads_nothing_and_another_tenant_cannot_read_or_write(full_world, model, table):
    world = full_world
    a, b = world.a.tenant.pk, world.b.tenant.pk
    with connection.cursor() as cursor:
        _set_tenant(cursor, a)
        assert _count(cursor, table) > 0, f"the test world has no {table} rows: add some to tests/factories.py"
        # No tenant set: nothing at all.
        _set_tenant(cursor, None)
        assert _count(cursor, table) == 0
        # Tenant B set: none of A's rows, even asked for by tenant.
        _set_tenant(cursor, b)
        assert _count(cursor, table, "WHERE tenant_id = %s", [a]) == 0
        assert _count(cursor, table) > 0
        for statement in (f"UPDATE {table} SET tenant_id = tenant_id", f"DELETE FROM {table}"):
            try:
                with transaction.atomic():
                    cursor.execute(f"{statement} WHERE tenant_id = %s", [a])
                    assert cursor.rowcount == 0, statement
            except DatabaseError:
                pass  # append-only tables refuse UPDATE and DELETE altogether: also no write
        # Writing a row into A's tenant while B is set is refused (WITH CHECK), whatever the route.
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute(f"UPDATE {table} SET tenant_id = %s WHERE tenant_id = %s", [a, b])
            if cursor.rowcount == 0:
                raise AssertionError("no row moved: B sees none of its own rows?")
        _set_tenant(cursor, a)


def test_a_row_cannot_point_at_another_tenants_parent(world, tenant_of):
    from students.models import Student

    other_class = world.b.classes["c1"]
    with tenant_of(world.a.tenant), pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        Student.objects.filter(pk=world.a.students["c1"][0].pk).update(
            klass_id=other_class.pk, grade_id=other_class.grade_id, school_id=other_class.school_id
        )


def test_bulk_rows_cannot_name_another_tenants_rows(full_world, tenant_of):
    """The registry rows and the findings carry no per-row foreign keys (a million checks at commit);
    the statements that write them prove the same thing in one join under row-level security."""
    from audits.models import Finding, FindingKind, ReasonCode, ReconciliationRun, RegistryEntry, RegistrySnapshot
    from audits.reconciliation.engine import FindingRow
    from audits.reconciliation.services import _write_findings
    from audits.registry.services.entries import EntryWriter

    a, b = full_world.a, full_world.b
    with tenant_of(b.tenant):
        b_pupil = b.students["c1"][0]
        b_snapshot = RegistrySnapshot.objects.get()
    with tenant_of(a.tenant):
        run = ReconciliationRun.objects.get()
        findings = Finding.objects.count()
        mine = a.students["c1"][0]
        rows = [
            FindingRow(FindingKind.STOP, ReasonCode.LEFT_SCHOOL, p.pk, p.school_id, p.grade_id, p.klass_id)
            for p in (mine, b_pupil)
        ]
        with pytest.raises(RuntimeError, match="cannot see"), transaction.atomic():
            _write_findings(run, rows)
        assert Finding.objects.count() == findings
        _write_findings(run, rows[:1])  # the same statement takes the tenant's own pupil
        assert Finding.objects.count() == findings + 1

        entries = RegistryEntry.objects.count()
        writer = EntryWriter(b_snapshot)
        with pytest.raises(RuntimeError, match="snapshot of the importing tenant"), transaction.atomic():
            try:
                writer.write([(2, "张三", "110101201001011237", "", "DIBAO", "", "")])
            finally:
                writer.close()
        assert RegistryEntry.objects.count() == entries


def test_accounts_and_public_notices_are_walled_inside_a_tenant_and_readable_before_one(world, tenant_of):
    """Inside tenant A's transaction the app role sees and changes neither B's accounts (password
    hashes included) nor the platform operators', nor B's public notices; before any tenant is set
    (sign-in, the public page) they are readable."""
    import datetime as dt
    import uuid

    a, b = world.a.tenant.pk, world.b.tenant.pk
    for w in (world.a, world.b):
        with tenant_of(w.tenant):
            PublicNotice.objects.create(
                token=uuid.uuid4(), tenant=w.tenant, title="公示", school_name="学校", starts_on=dt.date(2026, 9, 1),
                ends_on=dt.date(2026, 9, 7), rows=[],
            )  # fmt: skip
    with connection.cursor() as cursor:
        for table in ("schools_user", "students_publicnotice"):
            cursor.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [table])
            assert cursor.fetchone() == (True, True), table
        _set_tenant(cursor, None)
        assert _count(cursor, "schools_user", "WHERE tenant_id = %s", [b]) > 0  # sign-in finds anyone
        assert _count(cursor, "students_publicnotice", "WHERE tenant_id = %s", [b]) > 0  # the public page
        _set_tenant(cursor, a)
        assert _count(cursor, "schools_user", "WHERE tenant_id = %s", [a]) > 0
        assert _count(cursor, "schools_user", "WHERE tenant_id = %s OR tenant_id IS NULL", [b]) == 0
        assert _count(cursor, "students_publicnotice", "WHERE tenant_id = %s", [b]) == 0
        with transaction.atomic():
            cursor.execute("UPDATE schools_user SET password = 'stolen' WHERE tenant_id = %s OR tenant_id IS NULL", [b])
            assert cursor.rowcount == 0
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute("UPDATE schools_user SET tenant_id = %s WHERE tenant_id = %s", [b, a])


def test_the_app_cannot_delete_a_tenants_audit_chain_head(world, tenant_of):
    with tenant_of(world.a.tenant), connection.cursor() as cursor:
        assert _count(cursor, "audits_auditchainhead") == 1
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            cursor.execute("DELETE FROM audits_auditchainhead")


def test_the_tenant_is_set_with_a_statement_citus_forwards_and_it_ends_with_the_transaction(world):
    """Citus forwards SET LOCAL to the nodes holding the shards, not a set_config() call (issue 22):
    the setting is made by SET LOCAL, it walls the rows, and it is gone after the transaction."""
    from django.test.utils import CaptureQueriesContext

    from core.tenancy.context import tenant_transaction
    from students.models import Student

    with CaptureQueriesContext(connection) as queries, tenant_transaction(world.a.tenant.pk):
        seen = Student.objects.count()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('app.tenant_id', true)")
            assert cursor.fetchone()[0] == str(world.a.tenant.pk)
    statements = [q["sql"] for q in queries.captured_queries]
    assert any(s.startswith("SET LOCAL app.tenant_id = ") for s in statements), statements
    assert not any("set_config('app.tenant_id'" in s or "set_config(%s" in s for s in statements)
    assert seen == len(world.a.all_students)  # the rows are walled to the tenant that was set
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting('app.tenant_id', true), '')")
        assert cursor.fetchone()[0] == ""
