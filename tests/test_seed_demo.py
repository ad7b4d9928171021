"""The demo: two tenants, schools of every stage, pupils with valid IDs that fit their grades, one
account per role; a second run adds nothing."""

from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command

from core.tenancy.context import tenant_transaction
from demo import seed as demo
from schools.models import STAGE_ENTRY_AGE, Grade, RoleAssignment, School, SchoolClass, Stage, Tenant, User
from schools.permissions import Role
from students import idcard
from students.models import Student


def _counts():
    counts = {"tenants": Tenant.objects.count(), "users": User.objects.count()}
    for tenant in Tenant.objects.all():
        with tenant_transaction(tenant.pk):
            for model in (School, Grade, SchoolClass, Student, RoleAssignment):
                counts[(tenant.slug, model.__name__)] = model.objects.count()
    return counts


def test_seed_demo_builds_the_story_and_a_second_run_adds_nothing(db):
    out = io.StringIO()
    call_command("seed_demo", scale=0.05, stdout=out)
    first = _counts()
    assert first["tenants"] == 2
    assert first["users"] == 17  # seven roles and the system account in each tenant, the platform operator
    for slug in ("demo-a", "demo-b"):
        assert first[(slug, "School")] == 20
        assert first[(slug, "Student")] > 200
        assert first[(slug, "RoleAssignment")] == len(Role)
    assert "demo-2026" in out.getvalue()

    call_command("seed_demo", scale=0.05, stdout=io.StringIO())
    assert _counts() == first


def test_demo_schools_cover_every_stage_and_pupils_have_valid_fitting_ids(db):
    call_command("seed_demo", scale=0.05, stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="demo-a")
    with tenant_transaction(tenant.pk):
        stages = {stage for school in School.objects.all() for stage in school.stages}
        assert stages == set(Stage)
        assert {s.area for s in School.objects.all()} == {"URBAN", "RURAL"}
        for student in Student.objects.select_related("grade"):
            parsed = idcard.parse(student.id_number.reveal())
            assert parsed.birth_date == student.birth_date
            assert parsed.sex.value == student.gender
            age = (
                student.grade.entry_year
                - parsed.birth_date.year
                - (parsed.birth_date >= dt.date(parsed.birth_date.year, 9, 1))
            )
            assert age == STAGE_ENTRY_AGE[Stage(student.grade.stage)], (student.grade, parsed.birth_date)
            assert str(student.student_no) == "G" + student.id_number.masked


def test_every_demo_account_holds_its_role(db):
    call_command("seed_demo", scale=0.02, stdout=io.StringIO())
    for username, slug, _label in demo.demo_usernames():
        user = User.objects.get(username=username)
        if not slug:
            assert user.is_platform_operator
            continue
        with tenant_transaction(user.tenant_id):
            roles = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
        assert len(roles) == 1
        assert user.tenant.slug == slug


def test_the_demo_leaves_work_at_every_step_of_the_chain(db):
    from students.identification.selectors import waiting_for
    from students.models import ApplicationStatus, HardshipApplication

    call_command("seed_demo", scale=0.25, stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="demo-a")
    with tenant_transaction(tenant.pk):
        statuses = sorted(HardshipApplication.objects.values_list("status", flat=True))
        assert statuses.count(ApplicationStatus.IDENTIFIED) == 2
        for username in ("a.teacher", "a.grade", "a.officer", "a.district"):
            user = User.objects.get(username=username)
            assert waiting_for(user=user).count() == 2, username
