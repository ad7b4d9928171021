"""funding.selectors.semester_by_code: the one way the API and the commands turn a semester's name
(2026-AUTUMN, or its id) into the semester, scoped to the caller."""

from __future__ import annotations

import pytest

from funding.selectors import semester_by_code
from schools.permissions import Role


def test_a_semester_is_found_by_its_code_or_its_id(world, tenant_of):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        assert semester_by_code(user=district, code="2026-AUTUMN") == world.a.semester
        assert semester_by_code(user=district, code=" 2026-autumn ") == world.a.semester
        assert semester_by_code(user=district, code=str(world.a.semester.pk)) == world.a.semester
        assert semester_by_code(tenant=world.a.tenant, code="2026-AUTUMN") == world.a.semester


def test_another_tenants_semester_and_unknown_names_are_not_found(world, tenant_of):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        assert semester_by_code(user=district, code=str(world.b.semester.pk)) is None
        assert semester_by_code(tenant=world.a.tenant, code=str(world.b.semester.pk)) is None
        for text in ("2027-AUTUMN", "2026-WINTER", "2026", "", "not a semester", "12345678901234567890-SPRING"):
            assert semester_by_code(user=district, code=text) is None, text


def test_a_user_who_may_not_see_funding_finds_no_semester(world, tenant_of):
    with tenant_of(world.a.tenant):
        assert semester_by_code(user=world.a.users[Role.CLASS_TEACHER], code="2026-AUTUMN") is None


def test_it_takes_a_user_or_a_tenant_not_both(world, tenant_of):
    with tenant_of(world.a.tenant), pytest.raises(TypeError):
        semester_by_code(code="2026-AUTUMN")
    with tenant_of(world.a.tenant), pytest.raises(TypeError):
        semester_by_code(user=world.a.users[Role.DISTRICT_STAFF], tenant=world.a.tenant, code="2026-AUTUMN")
