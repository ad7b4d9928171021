"""The home page tells the school and the district what the money waits for."""

from __future__ import annotations

from disbursements.models import BatchKind
from disbursements.services import batches, corrections
from disbursements.worklist import money_items
from schools.permissions import Role
from tests.factories import make_semester
from tests.money import approved_list, identify


def _labels(user) -> dict[str, int]:
    return {str(item.label): item.count for item in money_items(user)}


def test_the_officer_is_asked_for_the_enrollment_check_and_the_district_for_approvals(world, tenant_of):
    w = world.a
    officer, district = w.users[Role.SCHOOL_OFFICER], w.users[Role.DISTRICT_STAFF]
    with tenant_of(w.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in w.students["c2"]:
            identify(w, pupil)
        approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
        batch = batches.batch_build(actor=district, semester=semester, kind=BatchKind.FIRST).batch
        assert any("enrollment" in label or "在校" in label for label in _labels(officer))
        batches.batch_confirm_school(actor=officer, batch=batch, school=w.schools["s1"])
        assert not any("enrollment" in label or "在校" in label for label in _labels(officer))
        stop = corrections.correction_propose(actor=officer, award=batch.lines.first().award, reason="转学")
        assert any(count == 1 for label, count in _labels(district).items() if "orrection" in label or "纠错" in label)
        assert stop.proposed_by == officer
        # The teacher has no money to look after.
        assert money_items(w.users[Role.CLASS_TEACHER]) == []
