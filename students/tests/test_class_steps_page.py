"""The class page: a whole class's evaluation, or a school's village confirmations, in one submit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from schools.permissions import Role
from students.models import ApplicationStatus, HardshipApplication
from tests.factories import make_application

S = ApplicationStatus
CLASS_PAGE = reverse("students:applications_class_step")
VILLAGE_PAGE = reverse("students:applications_village_step")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _rows(apps, **fields) -> dict[str, str]:
    """The formset's POST data: one row per application, the same fields in each."""
    data = {"rows-TOTAL_FORMS": str(len(apps)), "rows-INITIAL_FORMS": str(len(apps))}
    for i, app in enumerate(apps):
        data[f"rows-{i}-application"] = str(app.pk)
        data.update({f"rows-{i}-{name}": value for name, value in fields.items()})
    return data


@pytest.fixture
def c1_apps(world, tenant_of):
    a = world.a
    with tenant_of(a.tenant):
        extra = make_application(a.students["c1"][0], by=a.users[Role.CLASS_TEACHER])
    return [a.applications["c1"], extra]


def _get(tenant_of, tenant, pk) -> HardshipApplication:
    with tenant_of(tenant):
        return HardshipApplication.objects.get(pk=pk)


@pytest.mark.parametrize(
    ("role", "class_page", "village_page"),
    [
        (Role.CLASS_TEACHER, 200, 403),
        (Role.SCHOOL_OFFICER, 403, 200),
        (Role.GRADE_LEADER, 403, 403),
        (Role.TENANT_ADMIN, 403, 403),
    ],
)
def test_each_page_is_for_the_steps_recorder(world, role, class_page, village_page):
    client = _client(world.a.user(role))
    assert (client.get(CLASS_PAGE).status_code, client.get(VILLAGE_PAGE).status_code) == (class_page, village_page)


def test_the_teacher_sees_their_class_only_and_records_it_in_one_submit(world, tenant_of, c1_apps):
    a = world.a
    client = _client(a.user(Role.CLASS_TEACHER))
    page = client.get(CLASS_PAGE).content.decode()
    assert all(str(app.pk) in page for app in c1_apps)
    assert str(a.applications["c2"].pk) not in page
    response = client.post(
        CLASS_PAGE, _rows(c1_apps, class_evaluation="评议通过", visit_on="2026-09-20", visit_by="王")
    )
    assert response.status_code == 302
    for app in c1_apps:
        fresh = _get(tenant_of, a.tenant, app.pk)
        assert (fresh.class_evaluation, fresh.visit_on, fresh.visit_by) == ("评议通过", dt.date(2026, 9, 20), "王")


def test_a_row_naming_another_tenants_application_records_nothing(world, tenant_of, c1_apps):
    a, b = world.a, world.b
    client = _client(a.user(Role.CLASS_TEACHER))
    foreign = b.applications["c1"]
    response = client.post(CLASS_PAGE, _rows([*c1_apps, foreign], class_evaluation="评议通过"))
    assert response.status_code == 400
    assert all(_get(tenant_of, a.tenant, app.pk).class_evaluation == "" for app in c1_apps)
    assert _get(tenant_of, b.tenant, foreign.pk).class_evaluation == ""
    assert str(b.marker) not in response.content.decode()


def test_the_school_records_village_confirmations_both_fields_or_neither(world, tenant_of):
    a = world.a
    with tenant_of(a.tenant):
        teacher = a.users[Role.CLASS_TEACHER]
        apps = [make_application(a.students[k][0], by=teacher, status=S.SCHOOL_REVIEW) for k in ("c1", "c3")]
    client = _client(a.user(Role.SCHOOL_OFFICER))
    half = client.post(VILLAGE_PAGE, _rows(apps, confirmed_by="东村村委会"))
    assert half.status_code == 400
    assert _get(tenant_of, a.tenant, apps[0].pk).village_confirmed_by == ""
    done = client.post(VILLAGE_PAGE, _rows(apps, confirmed_by="东村村委会", confirmed_on="2026-10-09"))
    assert done.status_code == 302
    assert {_get(tenant_of, a.tenant, app.pk).village_confirmed_on for app in apps} == {dt.date(2026, 10, 9)}
