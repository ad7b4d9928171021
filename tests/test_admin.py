"""The admin site: tenant administrators run their own tenant's structure and accounts; the platform
operator creates tenants; nobody else gets in."""

from __future__ import annotations

from django.test import Client

from audits.models import AuditEvent
from core.tenancy.context import tenant_transaction
from schools.models import RoleAssignment, School, Tenant, User
from schools.permissions import Role


def _admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_only_administrators_and_the_operator_open_the_admin(world):
    for role in Role:
        response = _admin_client(world.a.users[role]).get("/admin/")
        assert (response.status_code == 200) is (role in (Role.TENANT_ADMIN, Role.DISTRICT_STAFF)), role


def test_a_tenant_admin_creates_a_school_in_their_own_tenant_audited(world):
    client = _admin_client(world.a.users[Role.TENANT_ADMIN])
    response = client.post(
        "/admin/schools/school/add/",
        {"code": "4106220099", "name": "新建小学", "stages": ["PRIMARY"], "area": "RURAL", "township": "T9",
         "is_active": "on", "grades-TOTAL_FORMS": "0", "grades-INITIAL_FORMS": "0"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_transaction(world.a.tenant.pk):
        school = School.objects.get(code="4106220099")
        assert school.stages == ["PRIMARY"]
        assert AuditEvent.objects.filter(object_id=str(school.pk), action="schools.school.create").exists()
    with tenant_transaction(world.b.tenant.pk):
        assert not School.objects.filter(code="4106220099").exists()


def test_a_tenant_admin_creates_an_account_with_a_role(world):
    client = _admin_client(world.a.users[Role.TENANT_ADMIN])
    klass = world.a.classes["c2"]
    response = client.post(
        "/admin/schools/user/add/",
        {"username": "new.teacher", "full_name": "新老师", "password": "a-Long-pass-2026",
         "role_assignments-TOTAL_FORMS": "1", "role_assignments-INITIAL_FORMS": "0",
         "role_assignments-0-role": Role.CLASS_TEACHER, "role_assignments-0-klass": str(klass.pk)},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(username="new.teacher")
    assert user.tenant == world.a.tenant
    assert user.check_password("a-Long-pass-2026")
    with tenant_transaction(world.a.tenant.pk):
        assignment = RoleAssignment.objects.get(user=user)
        assert (assignment.klass, assignment.grade_id, assignment.school_id) == (klass, klass.grade_id, klass.school_id)
        assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).exists()


def test_a_role_over_the_wrong_unit_is_refused_with_a_message(world):
    client = _admin_client(world.a.users[Role.TENANT_ADMIN])
    response = client.post(
        "/admin/schools/user/add/",
        {"username": "wrong.unit", "full_name": "x", "password": "a-Long-pass-2026",
         "role_assignments-TOTAL_FORMS": "1", "role_assignments-INITIAL_FORMS": "0",
         "role_assignments-0-role": Role.CLASS_TEACHER, "role_assignments-0-school": str(world.a.schools["s1"].pk)},
    )  # fmt: skip
    assert response.status_code == 200  # the form again, with the error
    assert not User.objects.filter(username="wrong.unit").exists()


def test_a_weak_password_is_refused(world):
    client = _admin_client(world.a.users[Role.TENANT_ADMIN])
    response = client.post(
        "/admin/schools/user/add/",
        {
            "username": "weak",
            "password": "123",
            "role_assignments-TOTAL_FORMS": "0",
            "role_assignments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="weak").exists()


def test_the_platform_operator_creates_a_tenant_and_its_first_administrator(db):
    from schools import services

    operator = services.user_create(tenant=None, username="operator", password="x", validate=False)
    client = _admin_client(operator)
    assert client.get("/admin/schools/school/").status_code == 403  # no tenant data for the operator
    response = client.post(
        "/admin/schools/tenant/add/",
        {"slug": "new-county", "name": "新县", "region_code": "410101", "admin_username": "nc.admin",
         "admin_password": "a-Long-pass-2026"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    tenant = Tenant.objects.get(slug="new-county")
    admin = User.objects.get(username="nc.admin")
    assert admin.tenant == tenant
    with tenant_transaction(tenant.pk):
        assert RoleAssignment.objects.get(user=admin).role == Role.TENANT_ADMIN
    assert client.get(f"/admin/schools/tenant/{tenant.pk}/change/").status_code == 200
