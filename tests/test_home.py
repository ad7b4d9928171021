"""Each person's home page shows what waits for them, from their own units only."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from audits.models import AuditEvent
from core import clock
from core.tenancy.context import tenant_transaction
from schools import services
from schools.models import Tenant, User
from schools.permissions import Role
from students.models import EnrollmentStatus, Student


def _home(user) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_tenant_admin_is_told_about_accounts_without_a_role_and_schools_without_an_officer(world, tenant_of):
    with tenant_of(world.a.tenant):
        services.user_create(tenant=world.a.tenant, username="new-teacher", password="x", validate=False)
    page = _home(world.a.users[Role.TENANT_ADMIN])
    assert "未分配角色的账号" in page  # "Accounts without a role"
    # s2 has no funding officer in the test world; s1 has one.
    assert page.count('rounded-pill">1<') >= 2


def test_a_teacher_sees_dropped_out_pupils_of_their_class_only(world, tenant_of):
    with tenant_of(world.a.tenant):
        Student.objects.filter(pk=world.a.students["c2"][0].pk).update(enrollment_status=EnrollmentStatus.DROPPED_OUT)
    assert "status=DROPPED_OUT" not in _home(world.a.users[Role.CLASS_TEACHER])  # c2 is not their class
    assert "status=DROPPED_OUT" in _home(world.a.users[Role.GRADE_LEADER])  # but in their grade


def test_the_home_page_lists_the_teachers_own_class(world):
    page = _home(world.a.users[Role.CLASS_TEACHER])
    assert str(world.a.classes["c1"]) in page
    assert str(world.a.classes["c2"]) not in page


def test_create_tenant_makes_a_tenant_and_its_administrator(db):
    out = io.StringIO()
    call_command("create_tenant", "new-county", "新县学生资助管理中心", "410101", "new.admin", stdout=out)
    tenant = Tenant.objects.get(slug="new-county")
    admin = User.objects.get(username="new.admin")
    assert admin.tenant == tenant
    assert "new.admin /" in out.getvalue()  # the generated password is printed once
    with tenant_transaction(tenant.pk):
        assert AuditEvent.objects.filter(action="tenant.create").count() == 1
        assert AuditEvent.objects.filter(action="user.create", object_id=str(admin.pk)).count() == 1
    with pytest.raises(CommandError, match="region"):
        call_command("create_tenant", "bad", "Bad", "12", "bad.admin", stdout=io.StringIO())


def test_a_password_change_is_audited_without_the_password(world, tenant_of):
    user = world.a.users[Role.CLASS_TEACHER]
    client = Client()
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "test-pass-123",
            "new_password1": "a-new-Pass-2026!",
            "new_password2": "a-new-Pass-2026!",
        },
    )
    assert response.status_code == 302
    with tenant_of(world.a.tenant):
        event = AuditEvent.objects.get(action="user.password_change")
    assert event.actor_id == user.pk
    assert "a-new-Pass-2026!" not in str(event.after) + str(event.before)


# --- The banner about next year's official calendar --------------------------------------------------

BANNER = 'data-testid="calendar-missing"'


def _home_on(user, day) -> str:
    with clock.frozen_at(day):
        return _home(user)


@pytest.fixture
def operator(db):
    return services.user_create(tenant=None, username="operator", password="x", validate=False)


def test_from_november_the_operator_and_the_tenant_admins_are_told_next_years_calendar_is_missing(world, operator):
    page = _home_on(operator, dt.date(2026, 11, 1))
    assert BANNER in page
    assert "2027年的法定节假日安排尚未导入" in page
    assert 'href="/schools/calendar/"' in page  # the operator can load it from there
    for tenant in (world.a, world.b):
        page = _home_on(tenant.users[Role.TENANT_ADMIN], dt.date(2026, 12, 7))
        assert BANNER in page
        assert "2027年的法定节假日安排尚未导入，请联系平台管理员" in page


def test_nobody_else_sees_the_banner(world):
    for role in Role:
        if role != Role.TENANT_ADMIN:
            assert BANNER not in _home_on(world.a.users[role], dt.date(2026, 12, 7)), role


def test_no_banner_in_october(world, operator):
    for user in (operator, world.a.users[Role.TENANT_ADMIN]):
        assert BANNER not in _home_on(user, dt.date(2026, 10, 31))


def test_no_banner_once_the_year_is_loaded(world, operator, fictional_2027):
    for user in (operator, world.a.users[Role.TENANT_ADMIN]):
        assert BANNER not in _home_on(user, dt.date(2026, 12, 7))


def test_the_auditor_is_shown_no_work_it_cannot_act_on(world, tenant_of):
    """The auditor reads (the trail, the register, the money) and acts on none of it: its home page
    holds only information, never a to-do, even when every kind of work is waiting for others."""
    from core import worklist

    with tenant_of(world.a.tenant):
        Student.objects.filter(pk=world.a.students["c1"][0].pk).update(enrollment_status=EnrollmentStatus.DROPPED_OUT)
        auditor = world.a.users[Role.DISTRICT_AUDITOR]
        items = worklist.items_for(auditor)
        assert [i.label for i in items if i.kind == "todo"] == []
        assert any(i.kind == "info" for i in items)  # the trail's news is still there
        # The same pupils are a to-do for those who follow them up.
        district_todo = [i for i in worklist.items_for(world.a.users[Role.DISTRICT_STAFF]) if i.kind == "todo"]
        assert any("status=DROPPED_OUT" in i.url for i in district_todo)
    assert "status=DROPPED_OUT" not in _home(auditor)
