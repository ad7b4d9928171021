"""Test fixtures shared by every app and the cross-cutting suites in tests/.

On PostgreSQL the test database is created and migrated by the owner (DATABASE_URL's user), then every
test runs connected as the app role: row-level security applies to the whole suite, not only to the
tests about it.
"""

from __future__ import annotations

import copy
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection

from tests import factories
from tests.factories import World

#: The database the settings name, before any test database replaces it in the connection's settings.
_CONFIGURED_DATABASE = settings.DATABASES["default"]["NAME"]


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
    if connection.settings_dict["NAME"] == _CONFIGURED_DATABASE:
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


def _skip_what_cannot_run(items) -> None:
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


#: Fixtures and marks under which a test commits for real (Django's TransactionTestCase, a live server, a
#: real Celery worker, a browser): no outer transaction can be held open around such a test. The mark
#: `fresh_world` asks for a world of the test's own for any other reason.
_TRANSACTIONAL_FIXTURES = {
    "transactional_db",
    "live_server",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}
_OWN_WORLD_MARKS = ("worker", "browser", "fresh_world")


def _shares_module_world(item) -> bool:
    """Whether `world` for this test is the module's (built once, rolled back per test) or its own."""
    if "world" not in getattr(item, "fixturenames", ()):
        return False
    if any(item.get_closest_marker(name) for name in _OWN_WORLD_MARKS):
        return False
    if _TRANSACTIONAL_FIXTURES & set(item.fixturenames):
        return False
    marker = item.get_closest_marker("django_db")
    if marker:
        from pytest_django.fixtures import validate_django_db

        transactional, reset_sequences, *_ = validate_django_db(marker)
        if transactional or reset_sequences:
            return False
    return True


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Skip what this machine cannot run (`_skip_what_cannot_run`).

    Give the tests that share their module's world the module fixture first (so that its outer
    transaction is open before pytest-django's per-test one), and run them after every other test that
    uses the database, transactional ones included, keeping their collected order (so each module's
    shared tests stay together and its world is built once).

    Why after all of them, not only after their own module's: pytest-django moves transactional tests
    to the end of the session, and pytest-xdist's `--dist loadfile` then runs a file's tests together in
    that order. A shared test placed before its own file's transactional tests would leave the module's
    outer transaction open around them (they commit for real: "tenant slug exists"). Placed after every
    database test, a file's shared tests come after its transactional ones in both runners, and pytest
    rolls the module's world back when the next test belongs to another module.

    trylast: after pytest-django's own ordering."""
    _skip_what_cannot_run(items)
    shared, rest = [], []
    for item in items:
        if _shares_module_world(item):
            item.fixturenames = ["_module_world", *item.fixturenames]
            shared.append(item)
        else:
            rest.append(item)
    last_db = max((i for i, item in enumerate(rest) if _uses_database(item)), default=-1)
    items[:] = rest[: last_db + 1] + shared + rest[last_db + 1 :]


def _uses_database(item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "live_server", "world"} & set(getattr(item, "fixturenames", ()))
    )


@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker):
    """The module's world, built once inside an outer transaction that is rolled back when the module
    ends (as Django's TestCase.setUpTestData): each test's own transaction (pytest-django's `db`) is a
    savepoint inside it, so a test's writes are undone and the next test sees the world as built.

    The world's files are not in the transaction: their contents are kept to be put back (see `world`)."""
    from django.db import transaction

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        with django_db_blocker.unblock():
            built = factories.build_world()
            files = _world_files(built)
        yield built, files
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _world_files(built: World) -> dict[str, bytes]:
    """The stored files of the world (attachment, outreach evidence), by storage name: their contents."""
    files = {}
    for w in (built.a, built.b):
        for field_file in (w.attachment.file, w.outreach["s1"].evidence):
            with field_file.storage.open(field_file.name) as f:
                files[field_file.name] = f.read()
    return files


@pytest.fixture
def world(db, request) -> World:
    """Two tenants (A, B), each with schools, grades, classes, students and one user per role.

    Built once per module and shared (a deep copy per test, so that instances one test changes in
    memory do not reach the next; the database side is rolled back after each test), except for
    the transactional tests and those marked `fresh_world`, which build their own."""
    if "_module_world" not in request.fixturenames:
        return factories.build_world()
    built, files = request.getfixturevalue("_module_world")
    storage = built.a.attachment.file.storage
    for name, content in files.items():
        # A test may have deleted or replaced one of the world's files; put it back as built.
        if not storage.exists(name) or _read(storage, name) != content:
            storage.delete(name)
            saved = storage.save(name, ContentFile(content))
            assert saved == name, (saved, name)
    return copy.deepcopy(built, {})


def _read(storage, name: str) -> bytes:
    with storage.open(name) as f:
        return f.read()


@pytest.fixture(autouse=True)
def _cache_of_its_own(request):
    """Every test gets its own cache key prefix: the module's shared world gives consecutive tests the
    same user ids, and per-user cache entries (menu counts, tab counts) must not outlive their test.
    Never a flush: other test processes and real Celery workers share the Redis database. The tests
    with a real worker keep the settings' prefix (the worker reads it)."""
    if request.node.get_closest_marker("worker"):
        yield
        return
    settings = request.getfixturevalue("settings")
    caches = copy.deepcopy(settings.CACHES)
    for alias in caches.values():
        alias["KEY_PREFIX"] = f"t{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches
    yield


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
