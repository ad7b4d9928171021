"""The home page per role (issue 25, item 2): each role's blocks, their counts from one grouped query
per block, and each count's link to the list of exactly those rows."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audits.models import AuditEvent
from care.models import CaseStatus
from config.dashboards import STEPS
from schools.permissions import Role
from students.models import ApplicationStatus, HardshipApplication
from tests import factories

pytestmark = pytest.mark.django_db


def _get(user, path="/"):
    client = Client()
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def _count(page: str, key: str) -> int:
    block = re.search(rf'data-testid="{re.escape(key)}".*?data-testid="count">(\d+)<', page, re.S)
    assert block, key
    return int(block.group(1))


def _href(page: str, key: str) -> str:
    found = re.search(rf'href="([^"]+)"[^>]*data-testid="{re.escape(key)}"', page)
    assert found, key
    return found.group(1).replace("&amp;", "&")


@pytest.mark.parametrize(
    ("role", "blocks", "absent"),
    [
        (Role.CLASS_TEACHER, ["board-teacher"], ["board-school", "board-district", "board-auditor"]),
        (Role.SCHOOL_OFFICER, ["board-school"], ["board-teacher", "board-district", "board-auditor"]),
        (Role.PRINCIPAL, ["board-school"], ["board-teacher", "board-auditor"]),
        (Role.DISTRICT_STAFF, ["board-school", "board-district"], ["board-teacher", "board-auditor"]),
        (Role.DISTRICT_AUDITOR, ["board-auditor"], ["board-teacher", "board-school", "board-district"]),
        (Role.TENANT_ADMIN, [], ["board-teacher", "board-school", "board-district", "board-auditor"]),
    ],
)
def test_each_role_sees_its_own_blocks(world, role, blocks, absent):
    page = _get(world.a.users[role])
    for block in blocks:
        assert f'data-testid="{block}"' in page, (role, block)
    for block in absent:
        assert f'data-testid="{block}"' not in page, (role, block)


def test_the_review_queue_counts_lead_to_exactly_those_applications(world, tenant_of):
    officer = world.a.users[Role.SCHOOL_OFFICER]
    page = _get(officer)
    with tenant_of(world.a.tenant):
        visible = HardshipApplication.objects.visible_to(officer)
        for status in (ApplicationStatus.CLASS_EVALUATION, ApplicationStatus.SCHOOL_REVIEW):
            key = f"step-{status.lower()}"
            assert _count(page, key) == visible.filter(status=status).count()
            assert f"status={status}" in _href(page, key)


def test_the_teacher_records_todays_absences_of_their_own_class_only(world):
    page = _get(world.a.users[Role.CLASS_TEACHER])
    assert f'data-testid="attendance-{world.a.classes["c1"].pk}"' in page
    assert f'data-testid="attendance-{world.a.classes["c2"].pk}"' not in page
    assert "/care/cases/?visit=due" in page


def test_the_auditor_sees_what_changed_as_words_and_the_chain(world, tenant_of):
    page = _get(world.a.users[Role.DISTRICT_AUDITOR])
    assert 'data-testid="chain"' in page
    with tenant_of(world.a.tenant):
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    for action in actions:
        assert f">{action}<" not in page  # the code itself is never shown


@pytest.mark.parametrize("role", [Role.CLASS_TEACHER, Role.SCHOOL_OFFICER, Role.DISTRICT_STAFF])
def test_a_home_pages_queries_do_not_grow_with_its_rows(world, tenant_of, role):
    """More pupils, applications at every step, cases in every class and school: the same queries."""
    client = Client()
    client.force_login(world.a.users[role])
    client.get("/")
    with CaptureQueriesContext(connection) as before:
        client.get("/")
    teacher = world.a.users[Role.CLASS_TEACHER]
    with tenant_of(world.a.tenant):
        for key, klass in world.a.classes.items():
            for i, status in enumerate([*STEPS, CaseStatus.SUSPECTED]):
                pupil = factories.make_student(klass, name=f"新{key}{i}", region=world.a.tenant.region_code)
                if status == CaseStatus.SUSPECTED:
                    factories.make_case(pupil, by=teacher, status=status)
                else:
                    factories.make_application(pupil, by=teacher, status=status)
    with CaptureQueriesContext(connection) as after:
        page = client.get("/").content.decode()
    assert len(after) == len(before), [q["sql"][:100] for q in after.captured_queries[len(before.captured_queries) :]]
    if role == Role.DISTRICT_STAFF:
        assert world.a.schools["s2"].name in page.split('data-testid="by-school"')[1]  # a new row, no new query


def test_the_district_home_page_answers_in_a_bounded_number_of_queries(world):
    """Grouped queries per block, never one per school, program or row: the bound holds for any district."""
    client = Client()
    client.force_login(world.a.users[Role.DISTRICT_STAFF])
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    assert len(queries) <= 45, [q["sql"][:80] for q in queries]
