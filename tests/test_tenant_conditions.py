"""Every query routable to one district (issue 22 item 3): the SQL of the main pages, the API and the
jobs, captured as it runs on PostgreSQL, names no tenant table without a tenant condition on it.

A database distributed by tenant_id (Citus) sends a statement to one node only when each distributed
table in it is pinned to one district: `tenant_id = …` on that table, or a join on `tenant_id` to a
table that is. `core.tenancy.sqlcheck` reads each statement; the sweeps below reuse the isolation
sweep's URL list (tests/test_tenant_isolation.py) and the test world (tests/factories.py). The checker
is shown naming deliberately broken statements first, so a green sweep means something.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client

from core.tenancy.catalog import tenant_tables
from core.tenancy.sqlcheck import exempt_reason, tenant_condition_violations
from schools.permissions import Role
from tests.test_tenant_isolation import POST_ONLY, all_patterns, url_for

TABLES = {"students_student", "schools_school", "funding_award", "students_guardian"}


# --- the checker itself ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        # a select_related join on id alone: the joined table is not pinned
        (
            'SELECT * FROM "students_student" INNER JOIN "schools_school" ON ("students_student"."school_id" = '
            '"schools_school"."id") WHERE "students_student"."tenant_id" = %s',
            ["schools_school has no tenant condition"],
        ),
        # a lookup by primary key alone (a related object fetched through the base manager)
        ('SELECT * FROM "schools_school" WHERE "schools_school"."id" = %s LIMIT 21', ["schools_school"]),
        # the tenant condition on another alias of the same table does not pin this one
        (
            'SELECT 1 FROM "students_student" U0 WHERE U0."tenant_id" = %s AND EXISTS (SELECT 1 FROM '
            '"students_student" V0 WHERE V0."id" = U0."id")',
            ["students_student (alias v0)"],
        ),
        # raw SQL with comma joins and lower-case aliases
        ("SELECT 1 FROM students_student s, funding_award a WHERE s.id = a.student_id AND a.tenant_id = %s", ["s)"]),
        # an UPDATE and a DELETE by id alone
        ('UPDATE "funding_award" SET "status" = %s WHERE "funding_award"."id" IN (%s)', ["funding_award"]),
        ('DELETE FROM "students_guardian" WHERE "students_guardian"."id" IN (%s)', ["students_guardian"]),
        # an INSERT that does not say which district the row is for
        ('INSERT INTO "funding_award" ("id", "status") VALUES (%s, %s)', ["funding_award"]),
        # "tenant_id = …" inside a string is not a condition
        ("SELECT 1 FROM funding_award WHERE note = 'tenant_id = 1'", ["funding_award"]),
        # a tenant_id compared with another table's id is no tenant condition either
        ('SELECT 1 FROM "funding_award" WHERE "funding_award"."tenant_id" = "funding_award"."id"', ["funding_award"]),
    ],
)
def test_the_checker_names_a_tenant_table_without_its_condition(sql, named):
    found = tenant_condition_violations(sql, TABLES)
    assert len(found) == len(named), found
    for fragment, line in zip(named, found, strict=True):
        assert fragment in line, (fragment, found)


@pytest.mark.parametrize(
    "sql",
    [
        'SELECT * FROM "students_student" INNER JOIN "schools_school" T3 ON ("students_student"."school_id" = '
        'T3."id" AND (T3."tenant_id" = "students_student"."tenant_id")) WHERE "students_student"."tenant_id" = %s',
        'SELECT * FROM "funding_award" WHERE ("funding_award"."tenant_id" IN (%s, %s) AND "funding_award"."id" = %s)',
        'INSERT INTO "funding_award" ("id", "tenant_id", "status") VALUES (%s, %s, %s)',
        "UPDATE funding_award SET status = 'X' WHERE tenant_id = %s AND id = %s",
        "SELECT 1 FROM funding_award a JOIN students_student s ON s.tenant_id = a.tenant_id AND s.id = a.student_id "
        "WHERE %s = a.tenant_id",
        'SELECT 1 FROM "funding_award" WHERE "funding_award"."tenant_id" = ANY(%s)',
        "SELECT relname FROM pg_class WHERE relname = 'funding_award'",  # a name in a string is no table
    ],
)
def test_the_checker_accepts_statements_pinned_to_a_district(sql):
    assert tenant_condition_violations(sql, TABLES) == []


# --- the sweeps ------------------------------------------------------------------------------------


class Capture:
    """The statements run on the default connection, with what ran them (a URL, a job)."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, str]] = []
        self.label = ""

    def __call__(self, execute, sql, params, many, context):
        self.statements.append((self.label, sql))
        return execute(sql, params, many, context)

    @contextmanager
    def running(self, label: str):
        self.label = label
        with connection.execute_wrapper(self):
            yield

    def violations(self, tables: list[str]) -> dict[str, list[str]]:
        """violation → the first few places it was seen (with the statement)."""
        found: dict[str, list[str]] = defaultdict(list)
        for label, sql in self.statements:
            if exempt_reason(sql):
                continue
            for line in tenant_condition_violations(sql, tables):
                if len(found[line]) < 3:
                    found[line].append(f"{label}: {sql[:3000]}")
        return dict(found)


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{line}\n    " + "\n    ".join(places) for line, places in found.items())


@pytest.fixture
def tables(db) -> list[str]:
    with connection.cursor() as cursor:
        return tenant_tables(cursor)


#: Roles whose pages are all swept (each role's home is swept for every role): the district's staff
#: reach every page, the school's officer and the class teacher see the narrower scopes' queries,
#: the auditor the read-only ones.
SWEPT_ROLES = [Role.DISTRICT_STAFF, Role.SCHOOL_OFFICER, Role.CLASS_TEACHER, Role.DISTRICT_AUDITOR]


@pytest.mark.postgres
def test_every_page_and_api_endpoint_pins_each_tenant_table(world, tables):
    capture = Capture()
    swept = 0
    for role in Role:
        client = Client()
        client.force_login(world.a.users[role])
        names = [n for _route, n in all_patterns() if n and n not in POST_ONLY] if role in SWEPT_ROLES else ["home"]
        for name in names:
            if name.startswith("admin:"):
                continue  # the platform staff's admin: no district's page (it has no tenant)
            url = url_for(name, world.a)
            if url is None:
                continue
            with capture.running(f"{role} GET {url}"):
                response = client.get(url, {"page": 1} if name.endswith("list") else None)
                if response.streaming:
                    b"".join(response.streaming_content)
            assert response.status_code < 500, url
            swept += 1
    assert swept > 200
    assert len(capture.statements) > 2000
    # The one exception met on pages (the old public-notice link) still matches what Django writes.
    assert any(
        exempt_reason(sql) and label.endswith(f"/p/{world.a.publicity.notice_token}/")
        for label, sql in capture.statements
    )
    found = capture.violations(tables)
    assert not found, _report(found)


@pytest.mark.postgres
def test_the_jobs_pin_each_tenant_table(world, tenant_of, tables, tmp_path):
    from audits.reconciliation.services import reconciliation_run
    from audits.registry.services import registry_import
    from audits.tests.test_registry import _csv, _id
    from disbursements.models import BatchKind
    from disbursements.services import batches
    from disbursements.services.exports import payment_roster
    from students.tests.test_roster_support import pupil, run_import, write_roster
    from tests.factories import make_semester
    from tests.money import approved_list, identify

    a = world.a
    district = a.users[Role.DISTRICT_STAFF]
    officer = a.users[Role.SCHOOL_OFFICER]
    capture = Capture()
    roster = write_roster(tmp_path / "roster.xlsx", [pupil(a), pupil(a, klass="c2")])
    with capture.running("roster import"):
        outcome = run_import(a.tenant, roster, actor=officer)
    assert outcome.created == 2, outcome.counts
    registry = _csv([["姓名", "身份证号", "类别"], ["张三", _id(1), "低保"]], "utf-8")
    with tenant_of(a.tenant), capture.running("registry import"):
        registry_import(actor=district, source="CIVIL", file_name="低保.csv", file=registry)
    with tenant_of(a.tenant), capture.running("reconciliation"):
        reconciliation_run(actor=district, semester=a.semester)
    with tenant_of(a.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        for student in a.students["c2"]:
            identify(a, student)
        approved_list(a, program_code="LIVING_SUBSIDY", semester=semester)
    with tenant_of(a.tenant), capture.running("batch build"):
        batch = batches.batch_build(actor=district, semester=semester, kind=BatchKind.FIRST).batch
    with tenant_of(a.tenant), capture.running("batch release"):
        batches.batch_confirm_school(actor=officer, batch=batch, school=a.schools["s1"])
        batches.batch_release(actor=district, batch=batch)
    with tenant_of(a.tenant), capture.running("export"):
        payment_roster(actor=district, batch=batch, fmt="xlsx", target=tmp_path / "roster-out.xlsx")
    labels = {label for label, _sql in capture.statements}
    assert labels == {"roster import", "registry import", "reconciliation", "batch build", "batch release", "export"}
    found = capture.violations(tables)
    assert not found, _report(found)


def test_the_exceptions_match_their_statement_only():
    """The old public-notice link's read is exempt; the same read naming the district is not needed
    to be, and a read of another table shaped alike is not exempt."""
    old_link = (
        'SELECT "students_publicnotice"."token" FROM "students_publicnotice" INNER JOIN "schools_tenant" ON '
        '("students_publicnotice"."tenant_id" = "schools_tenant"."id") WHERE ("students_publicnotice"."ends_on" >= %s '
        'AND "students_publicnotice"."starts_on" <= %s AND "students_publicnotice"."token" = %s) '
        'ORDER BY "students_publicnotice"."token" ASC LIMIT 1'
    )
    assert exempt_reason(old_link)
    assert tenant_condition_violations(old_link, {"students_publicnotice"})  # it is a violation, excepted
    assert not exempt_reason(old_link.replace('"token" = %s)', '"token" = %s AND "students_publicnotice"."id" = %s)'))
    assert exempt_reason('CREATE TEMP TABLE s AS SELECT "id" FROM "students_student" WHERE 1 = 0')
    assert not exempt_reason('CREATE TEMP TABLE s AS SELECT "id" FROM "students_student" WHERE 1 = 1')
