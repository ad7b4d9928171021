"""Test fixtures shared by every app and the cross-cutting suites in tests/.

On PostgreSQL the test database is created and migrated by the owner (DATABASE_URL's user), then every
test runs connected as the app role: row-level security applies to the whole suite, not only to the
tests about it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connection

from tests import factories
from tests.factories import World


def _switch_user(user: str) -> None:
    connection.close()
    connection.settings_dict["USER"] = user
    connection.settings_dict["PASSWORD"] = (
        os.environ.get("DATABASE_APP_PASSWORD", "")
        if user == settings.DATABASE_APP_ROLE
        else connection.settings_dict.get("_OWNER_PASSWORD", "")
    )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After pytest-django created and migrated the test database as the owner, connect as the app role."""
    if connection.settings_dict["NAME"] != connection.creation._get_test_db_name():
        # pytest-django creates the test database only when a collected test carries a database mark;
        # the browser modules that share one seeded demo (tests.browser.demo_site_for_module) carry
        # none, so a run of those modules alone creates it here.
        from django.test.utils import setup_databases, teardown_databases

        with django_db_blocker.unblock():
            created = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        yield from _as_app_role(django_db_blocker)
        with django_db_blocker.unblock():
            teardown_databases(created, verbosity=0)
        return
    yield from _as_app_role(django_db_blocker)


def _as_app_role(django_db_blocker):
    if connection.vendor != "postgresql":
        yield
        return
    owner = connection.settings_dict["USER"]
    connection.settings_dict["_OWNER_USER"] = owner
    connection.settings_dict["_OWNER_PASSWORD"] = connection.settings_dict.get("PASSWORD", "")
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        role = connection.ops.quote_name(settings.DATABASE_APP_ROLE)
        # Test database only: Django's flush between transactional tests truncates every table. The
        # production grants (core.tenancy.db.grant_app_role) never include TRUNCATE.
        cursor.execute(f"GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {role}")
    _switch_user(settings.DATABASE_APP_ROLE)
    yield
    _switch_user(owner)


@pytest.fixture(scope="session", autouse=True)
def _sqlite_flush_past_append_only_triggers():
    """Django empties tables between transactional tests with DELETE on SQLite, which the audit
    table's append-only trigger refuses; lift the triggers for the flush only. (PostgreSQL's flush
    uses TRUNCATE, which the owner-granted privilege allows and row triggers do not see.)"""
    from django.core.management.commands import flush

    from core.tenancy.db import APPEND_ONLY_TABLES, append_only_drop_sql, append_only_sql

    original = flush.Command.handle

    def handle(self, **options):
        if connection.vendor != "sqlite":
            return original(self, **options)
        with connection.cursor() as cursor:
            for table in APPEND_ONLY_TABLES:
                for statement in append_only_drop_sql("sqlite", table):
                    cursor.execute(statement)
        try:
            return original(self, **options)
        finally:
            with connection.cursor() as cursor:
                for table in APPEND_ONLY_TABLES:
                    for statement in append_only_sql("sqlite", table):
                        cursor.execute(statement)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(flush.Command, "handle", handle)
        yield


@pytest.fixture(scope="session", autouse=True)
def _official_calendar_survives_the_flush(_sqlite_flush_past_append_only_triggers):
    """The official calendar is seeded by a data migration, and Django's flush after a transactional
    test empties it with every other table; seed it again, as the migration did, so that the
    transactional tests that follow (pytest-django runs them after the others) count working days on
    the same calendar."""
    from django.core.management.commands import flush

    from schools.official_calendar.services import official_calendar_load_library

    emptied = flush.Command.handle

    def handle(self, **options):
        result = emptied(self, **options)
        official_calendar_load_library()
        return result

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(flush.Command, "handle", handle)
        yield


def pytest_collection_modifyitems(config, items):
    """Skip what this machine cannot run, unless REQUIRE_SERVICES=1 (CI) says it must."""
    required = os.environ.get("REQUIRE_SERVICES") == "1"
    vendor = connection.vendor
    for item in items:
        if item.get_closest_marker("postgres") and vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if item.get_closest_marker("worker") and not settings.REDIS_URL:
            reason = "needs Redis for a real Celery worker (set REDIS_URL)"
            item.add_marker(
                pytest.mark.xfail(reason=reason, strict=True, run=False)
                if required
                else pytest.mark.skip(reason=reason)
            )
        if item.get_closest_marker("browser") and not os.path.exists(factories.CHROMIUM):
            reason = f"needs Debian's chromium at {factories.CHROMIUM}"
            item.add_marker(
                pytest.mark.xfail(reason=reason, strict=True, run=False)
                if required
                else pytest.mark.skip(reason=reason)
            )


@pytest.fixture
def world(db) -> World:
    """Two tenants (A, B), each with schools, grades, classes, students and one user per role."""
    return factories.build_world()


@pytest.fixture
def tenant_of():
    """`with tenant_of(tenant): …` runs test code for that tenant (application and database side)."""
    from core.tenancy.context import tenant_transaction

    @contextmanager
    def enter(tenant) -> Iterator[None]:
        with tenant_transaction(tenant.pk):
            yield

    return enter


@pytest.fixture
def fictional_2027(db, tmp_path):
    """A made-up official calendar of 2027 (never the State Council's; see factories.FICTIONAL_2027_CSV),
    loaded from a CSV file written here, for tests whose dates reach into 2027."""
    factories.load_fictional_calendar(tmp_path / "fictional-2027.csv")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After every database test, before its transaction is rolled back: each tenant row in the
    database has at least one audit event.

    Catches writes that went around the audited ORM paths (raw SQL, a queryset method that bypasses
    TenantQuerySet) in any test, not only in the tests about auditing.
    """
    uses_db = item.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(
        getattr(item, "fixturenames", ())
    )
    passed = getattr(getattr(item, "rep_call", None), "passed", False)
    if uses_db and passed and not item.get_closest_marker("skip_audit_coverage"):
        from tests.audit_coverage import unaudited_rows

        missing = unaudited_rows()
        assert not missing, f"rows written without an audit event: {missing[:5]}"
    return (yield)
