"""The side menu (config/menu.py): each role is shown exactly the entries it may open, grouped by the
year's work; the counts beside them are the home page's worklist, computed at most once per request and
never while an ordinary page renders."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from config import menu
from core import worklist
from schools.permissions import Role
from students.models import EnrollmentStatus, Student

ALL_GROUPS = ["students", "identification", "funding", "checks", "care", "reports", "system"]


def _badge(page: str, key: str) -> tuple[str, str]:
    """The count element of a menu entry: its attributes and its text."""
    found = re.search(rf'<span ([^>]*id="menu-count-{key}"[^>]*)>([^<]*)', page)
    assert found, key
    return found.group(1), found.group(2)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def calls(monkeypatch):
    """How many times the worklist is computed (the real one runs; this only counts)."""
    seen = []
    real = worklist.items_for

    def counting(user):
        seen.append(user.pk)
        return real(user)

    monkeypatch.setattr(worklist, "items_for", counting)
    return seen


@pytest.mark.parametrize(
    ("role", "groups"),
    [
        (Role.CLASS_TEACHER, ["students", "identification", "care"]),
        (Role.SCHOOL_OFFICER, ["students", "identification", "funding", "care", "reports"]),
        (Role.DISTRICT_STAFF, ALL_GROUPS),
        (Role.DISTRICT_AUDITOR, ALL_GROUPS),
        (Role.TENANT_ADMIN, ["students", "system"]),
    ],
)
def test_each_role_gets_the_groups_of_its_work(world, role, groups):
    page = _client(world.a.users[role]).get("/schools/").content.decode()
    shown = [key for key in ALL_GROUPS if f'data-testid="menu-group-{key}"' in page]
    assert shown == groups


@pytest.mark.parametrize("role", list(Role))
def test_an_entry_is_shown_exactly_when_the_role_may_open_its_page(world, role):
    """Shown ⇔ the page opens: no entry leads to a refusal, no page the role may use is missing."""
    user = world.a.users[role]
    client = _client(user)
    page = client.get("/").content.decode()
    mismatched = []
    for group in menu.MENU:
        for entry in group.entries:
            url = reverse(entry.url_name)
            shown = f'data-testid="menu-{entry.key}"' in page
            response = client.get(url)
            # A page may send the role on to its one unit (the teacher's own class); never to a login.
            opens = response.status_code == 200 or (response.status_code == 302 and "login" not in response.url)
            if shown != opens:
                mismatched.append((entry.url_name, shown, opens))
    assert not mismatched


def test_an_ordinary_page_leaves_the_counts_to_one_request_after_it(world, tenant_of, calls):
    with tenant_of(world.a.tenant):
        Student.objects.filter(pk=world.a.students["c1"][0].pk).update(enrollment_status=EnrollmentStatus.DROPPED_OUT)
    client = _client(world.a.users[Role.DISTRICT_STAFF])
    page = client.get("/schools/").content.decode()
    assert calls == []  # the list page's own queries only
    assert 'hx-get="/menu/counts/"' in page
    counts = client.get("/menu/counts/").content.decode()
    assert len(calls) == 1
    attributes, text = _badge(counts, "students-list")
    assert 'hx-swap-oob="true"' in attributes
    assert text == "1"
    # Entries the district may not use get no count (the teacher's register of absences).
    assert "menu-count-care-attendance" not in counts


def test_the_home_page_computes_the_worklist_once_and_shows_its_counts_inline(world, tenant_of, calls):
    with tenant_of(world.a.tenant):
        Student.objects.filter(pk=world.a.students["c1"][0].pk).update(enrollment_status=EnrollmentStatus.DROPPED_OUT)
    page = _client(world.a.users[Role.DISTRICT_STAFF]).get("/").content.decode()
    assert len(calls) == 1  # the home page's list and the menu share it
    assert "/menu/counts/" not in page
    attributes, text = _badge(page, "students-list")
    assert "hidden" not in attributes
    assert text == "1"


def test_counts_are_summed_by_the_page_the_work_leads_to_and_info_is_not_work():
    items = [
        worklist.WorkItem(label="a", count=2, url="/students/applications/"),
        worklist.WorkItem(label="b", count=3, url="/students/applications/?step=x"),
        worklist.WorkItem(label="c", count=5, url="/audit/", kind="info"),
        worklist.WorkItem(label="d", count=7, url="/nowhere/at/all/"),
    ]
    assert menu.counts_by_page(items) == {"students:applications": 5}


def test_the_teacher_has_no_api_reference_and_the_district_has_it_in_the_account_menu(world):
    teacher = _client(world.a.users[Role.CLASS_TEACHER]).get("/").content.decode()
    district = _client(world.a.users[Role.DISTRICT_STAFF]).get("/").content.decode()
    assert "/api/docs/" not in teacher
    assert 'data-testid="api-docs"' in district
    for page in (teacher, district):
        assert ">English</option>" in page
        assert ">简体中文</option>" in page
        assert "英语" not in page


def test_the_menu_counts_are_kept_briefly_per_user_and_a_post_of_theirs_forgets_them(
    world, tenant_of, calls, monkeypatch
):
    """The counts request follows every page view: computed once per MENU_COUNTS_TTL for a user, not on
    every page; their own POST (work done) and a visit to the home page (computed afresh) refresh it."""
    # An hour: a machine stalled by other work must not let 30 s pass between two requests of the test.
    monkeypatch.setattr(menu, "MENU_COUNTS_TTL", 3600)
    district = world.a.users[Role.DISTRICT_STAFF]
    client = _client(district)
    assert _badge(client.get("/menu/counts/").content.decode(), "students-list")[1] == ""
    assert len(calls) == 1
    with tenant_of(world.a.tenant):
        Student.objects.filter(pk=world.a.students["c1"][0].pk).update(enrollment_status=EnrollmentStatus.DROPPED_OUT)
    # Within the TTL: the kept counts, the worklist is not computed again.
    assert _badge(client.get("/menu/counts/").content.decode(), "students-list")[1] == ""
    assert len(calls) == 1
    # Another user's counts are their own.
    _client(world.a.users[Role.DISTRICT_AUDITOR]).get("/menu/counts/")
    assert len(calls) == 2
    # The home page computes the worklist afresh and the menu agrees with it afterwards.
    client.get("/")
    assert len(calls) == 3
    assert _badge(client.get("/menu/counts/").content.decode(), "students-list")[1] == "1"
    assert len(calls) == 3
    # A POST of the user's (here: the language switch) forgets them: the next counts are computed.
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    client.get("/menu/counts/")
    assert len(calls) == 4


def _menu_entries(page: str) -> list[str]:
    return re.findall(r'data-testid="menu-([a-z0-9_-]+)" title=', page)


def _current(page: str) -> list[str]:
    return re.findall(r'data-testid="menu-([a-z0-9_-]+)" title="[^"]*" aria-current="page"', page)


def test_the_rendered_menu_is_shared_by_roles_and_page_but_never_across_them(world):
    """The side menu is kept rendered in the cache by the roles, the language and the current entry
    (base.html, menu_key): a teacher opening a page right after the district never gets the district's
    menu, the current entry follows the page, and the language follows the user's choice."""
    district = _client(world.a.users[Role.DISTRICT_STAFF])
    teacher = _client(world.a.users[Role.CLASS_TEACHER])
    wide = district.get("/students/").content.decode()
    narrow = teacher.get("/students/").content.decode()
    # Each has entries the other has not (the teacher's own pupils; the district's checks and reports).
    assert set(_menu_entries(narrow)) - set(_menu_entries(wide))
    assert set(_menu_entries(wide)) - set(_menu_entries(narrow))
    # The teacher's menu is exactly the entries the teacher may open, as the uncached home page shows.
    assert _menu_entries(narrow) == _menu_entries(teacher.get("/").content.decode())
    assert _current(wide) == _current(narrow) == ["students-list"]
    assert _current(district.get("/schools/").content.decode()) == ["schools-list"]
    # Same roles, another district's user: the same rendered menu, their own page around it.
    other = _client(world.b.users[Role.DISTRICT_STAFF]).get("/students/").content.decode()
    assert _menu_entries(other) == _menu_entries(wide)
    # The language is part of the key: English labels after switching.
    district.post(reverse("set_language"), {"language": "en"})
    english = district.get("/students/").content.decode()
    assert ">Students<" in english
    assert ">Students<" not in wide
