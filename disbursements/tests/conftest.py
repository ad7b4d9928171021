"""Fixtures of the money's tests."""

from __future__ import annotations

import pytest

from tests.factories import make_semester
from tests.money import approved_list, identify


@pytest.fixture
def paid_semester(world, tenant_of):
    """A spring semester whose living-subsidy list for s1 (two pupils of c2) is approved."""
    with tenant_of(world.a.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in world.a.students["c2"]:
            identify(world.a, pupil)
        approved_list(world.a, program_code="LIVING_SUBSIDY", semester=semester)
        return semester
