"""Pages kept per reader (core.pagecache): served again only while nothing they could see has changed."""

from __future__ import annotations

import pytest
from django.contrib.messages import SUCCESS
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone

from core import pagecache
from disbursements.models import PaymentLine
from schools.permissions import Role
from students.models import Student
from tests.factories import PASSWORD


def _reader(user) -> Client:
    client = Client()
    client.force_login(user)
    client.get("/students/")  # the first page sets the CSRF cookie; pages are kept from then on
    return client


def _page(client: Client, url: str = "/students/") -> tuple[str, str]:
    response = client.get(url)
    assert response.status_code == 200
    return response.get("X-Page-Cache", ""), response.content.decode()


def test_a_page_is_kept_for_its_reader_and_built_again_after_a_write_to_what_it_read(world, tenant_of):
    client = _reader(world.a.users[Role.DISTRICT_STAFF])
    assert _page(client)[0] == "miss"
    kept, page = _page(client)
    assert kept == "hit"
    pupil = world.a.students["c1"][0]
    assert pupil.name in page
    with tenant_of(world.a.tenant):
        Student.objects.filter(pk=pupil.pk).update(name="改过的名字")
    kept, page = _page(client)
    assert kept == "miss"
    assert "改过的名字" in page
    assert pupil.name not in page


def test_a_write_to_a_table_the_page_did_not_read_leaves_it_kept(world, tenant_of):
    """The register reads pupils, not payments: a payment line changed in the same district keeps it;
    then a pupil changed rebuilds it."""
    client = _reader(world.a.users[Role.DISTRICT_STAFF])
    _page(client)
    read = _read_by(client)
    assert "students_student" in read
    assert "disbursements_paymentline" not in read
    with tenant_of(world.a.tenant):
        PaymentLine.objects.update(updated_at=timezone.now())
    assert _page(client)[0] == "hit"
    with tenant_of(world.a.tenant):
        Student.objects.filter(pk=world.a.students["c1"][0].pk).update(name="改名")
    assert _page(client)[0] == "miss"


def test_a_write_that_names_no_known_table_rebuilds_every_page_of_the_tenant(world, tenant_of):
    client = _reader(world.a.users[Role.DISTRICT_STAFF])
    _page(client)
    with tenant_of(world.a.tenant), connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE pagecache_probe (n integer)")
        cursor.execute("INSERT INTO pagecache_probe (n) VALUES (1)")
        cursor.execute("DROP TABLE pagecache_probe")
    assert _page(client)[0] == "miss"


def _read_by(client: Client) -> set[str]:
    """The tables the client's kept register page read (from its entry in the cache)."""
    from django.core.cache import cache

    request = RequestFactory().get("/students/")
    request.COOKIES.update({k: v.value for k, v in client.cookies.items()})
    request.session = client.session
    request.user = _user(client)
    request.tenant_id = request.user.tenant_id
    key = pagecache.page_key(request)
    entry = cache.get(key)
    assert entry is not None
    return set(entry[0])


def _user(client: Client):
    from django.contrib.auth import SESSION_KEY, get_user_model

    return get_user_model().objects.get(pk=client.session[SESSION_KEY])


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ('SELECT "students_student"."id" FROM "students_student"', {"students_student"}),
        (
            'SELECT "a"."id" FROM "funding_award" "a" INNER JOIN "students_student" ON ("a"."student_id" = '
            '"students_student"."id") WHERE "a"."id" IN (SELECT "award_id" FROM disbursements_paymentline)',
            {"funding_award", "students_student", "disbursements_paymentline"},
        ),
        ("INSERT INTO funding_award (id) SELECT id FROM registry_entry_stage", {"funding_award"}),
        ("SET LOCAL app.tenant_id = ''", set()),
        ('SELECT "student_id", "village" FROM "x"', set()),  # columns are not tables
    ],
)
def test_which_tables_a_statement_names(sql, tables):
    assert pagecache.tables_in(sql) == tables


def test_a_long_statement_is_read_but_not_remembered():
    """A bulk INSERT's text grows with its rows: remembering thousands of them would hold a worker's memory."""
    sql = 'INSERT INTO "care_absence" ("id", "student_id") VALUES ' + ", ".join(["(%s, %s)"] * 2_000)
    remembered = pagecache._tables_in_remembered.cache_info().currsize
    assert pagecache.tables_in(sql) == {"care_absence"}
    assert pagecache._tables_in_remembered.cache_info().currsize == remembered


def test_a_write_in_another_tenant_leaves_the_page_kept(world, tenant_of):
    client = _reader(world.a.users[Role.DISTRICT_STAFF])
    _page(client)
    with tenant_of(world.b.tenant):
        Student.objects.filter(pk=world.b.students["c1"][0].pk).update(name="乙县改名")
    assert _page(client)[0] == "hit"


def test_readers_never_share_a_page_not_even_in_one_tenant(world):
    staff, officer = _reader(world.a.users[Role.DISTRICT_STAFF]), _reader(world.a.users[Role.SCHOOL_OFFICER])
    _page(staff)
    assert _page(staff)[0] == "hit"
    assert _page(officer)[0] == "miss"  # the officer's own page, of their own school only
    other = _reader(world.b.users[Role.DISTRICT_STAFF])
    kept, page = _page(other)
    assert kept == "miss"
    assert world.a.students["c1"][0].name not in page


def test_each_query_string_and_language_is_a_page_of_its_own(world):
    client = _reader(world.a.users[Role.DISTRICT_STAFF])
    _page(client)
    assert _page(client, "/students/?page=1")[0] == "miss"
    client.cookies["django_language"] = "en"
    assert _page(client)[0] == "miss"


def test_a_page_with_a_message_to_show_is_not_kept(world):
    user = world.a.users[Role.DISTRICT_STAFF]
    client = _reader(user)
    # As the sign-in or a form's redirect leaves it: in the messages cookie, shown by the next page.
    client.cookies["messages"] = CookieStorage(RequestFactory().get("/"))._encode([Message(SUCCESS, "已保存")])
    response = client.get("/students/")
    assert "X-Page-Cache" not in response
    assert "已保存" in response.content.decode()
    # Shown once: the next page is kept again.
    assert _page(client)[0] == "miss"


@pytest.mark.parametrize(
    ("sql", "writes"),
    [
        ('SELECT "students_student"."id" FROM "students_student"', False),
        ('INSERT INTO "students_student" ("name") VALUES (%s)', True),
        ('  update "funding_award" SET "status" = %s', True),
        ('DELETE FROM "care_visit" WHERE "id" = %s', True),
        ("WITH x AS (SELECT 1) SELECT * FROM x", False),
        ("WITH moved AS (UPDATE funding_award SET status = 'X' RETURNING id) SELECT count(*) FROM moved", True),
        ("TRUNCATE registry_entry_stage", True),
        ("SET LOCAL app.tenant_id = ''", False),
    ],
)
def test_which_statements_write(sql, writes):
    assert pagecache.writes(sql) is writes


def test_a_session_touch_moves_no_generation(world, tenant_of, settings):
    settings.PAGE_CACHE = True
    tenant = world.a.tenant
    keys = [pagecache._generation_key(tenant.pk), pagecache._generation_key(tenant.pk, "schools_signin")]
    with tenant_of(tenant):
        before = pagecache._current(keys)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE schools_signin SET last_seen_at = last_seen_at WHERE ended_at < created_at")
        assert pagecache._current(keys) == before
        pupils = [pagecache._generation_key(tenant.pk, "students_student")]
        pupils_before = pagecache._current(pupils)
        Student.objects.filter(pk=world.a.students["c1"][0].pk).update(name="改名")
        assert pagecache._current(pupils) != pupils_before


@pytest.mark.skip_audit_coverage
@pytest.mark.django_db(transaction=True)
def test_the_generation_moves_again_when_the_transaction_commits(tenant_of, settings):
    """A page built between a write and its commit shows the rows as they were before: the commit moves
    the generation on once more, so that page is never read again. Once per transaction, however many
    statements wrote."""
    from tests.factories import build_world

    settings.PAGE_CACHE = True
    world = build_world()
    tenant, pupils = world.a.tenant, world.a.students["c1"]
    key = [pagecache._generation_key(tenant.pk, "students_student")]
    with tenant_of(tenant):
        Student.objects.filter(pk=pupils[0].pk).update(name="改名")
        Student.objects.filter(pk=pupils[1].pk).update(name="也改名")
        during = pagecache._current(key)
        moves = [f for _sids, f, *_ in connection.run_on_commit if isinstance(f, pagecache._MoveAgain)]
        # The pupils' twice (two statements), their audit events' as well: one callback each.
        assert [m.keys for m in moves].count(frozenset(key)) == 1
        assert len(moves) == len(set(moves))
    assert pagecache._current(key) != during


def test_a_kept_page_is_sealed_in_the_cache_and_bound_to_its_reader(world, settings):
    """The cache holds pupils' names only encrypted, and a page moved under another reader's key (by
    someone who can write to the cache) is not served: it is built afresh."""
    from django.core.cache import cache

    pupil = world.a.students["c1"][0]
    client = _reader(world.a.users[Role.DISTRICT_STAFF])
    _page(client)
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    kept = _cached_pages(cache, prefix)
    assert kept
    for _reads, sealed in kept.values():
        assert pupil.name.encode() not in sealed
        assert b"<html" not in sealed
    other = _reader(world.a.users[Role.SCHOOL_OFFICER])
    _page(other)
    theirs = set(_cached_pages(cache, prefix)) - set(kept)
    assert theirs
    for key in theirs:  # the district's page put under the officer's keys
        cache.set(key, next(iter(kept.values())))
    assert _page(other)[0] == "miss"


def _cached_pages(cache, prefix) -> dict[str, bytes]:
    """The kept pages in the cache, by key (LocMem or Redis, whichever the suite runs on)."""
    backend = cache._cache if hasattr(cache, "_cache") and not isinstance(cache._cache, dict) else None
    if backend is not None:  # Redis
        client = backend.get_client()
        names = [k.decode().split(":", 2)[2] for k in client.scan_iter(f"{prefix}:*:page:*")]
    else:  # LocMem
        names = [k.split(":", 2)[2] for k in list(cache._cache) if k.startswith(f"{prefix}:") and ":page:" in k]
    found = {name: cache.get(name) for name in names}
    return {name: page for name, page in found.items() if page is not None}


def test_a_sign_in_elsewhere_leaves_every_kept_page_kept(world):
    """Signing in writes outside any district (the user's last sign-in, the lockout log): at eight in the
    morning a province's teachers sign in by the thousand, and each sign-in moved the platform's
    generation, which every kept page of every district carries."""
    client = _reader(world.a.users[Role.DISTRICT_STAFF])
    _page(client)
    teacher = world.b.users[Role.CLASS_TEACHER]
    other = Client()
    signed_in = other.post("/accounts/login/", {"username": teacher.username, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert other.get("/").status_code == 200  # really in
    assert _page(client)[0] == "hit"
