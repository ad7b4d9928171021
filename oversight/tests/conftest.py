from __future__ import annotations

from decimal import Decimal

import pytest

from disbursements.models import (
    Batch,
    BatchKind,
    BatchStatus,
    Correction,
    CorrectionKind,
    CorrectionStatus,
    LineStatus,
    PaymentLine,
    Recovery,
)
from disbursements.summary import money_summary_rebuild
from funding.models import Award
from schools.permissions import Role
from tests.factories import make_semester
from tests.money import approved_list, identify


@pytest.fixture
def money_semester(world, tenant_of):
    """A spring semester of tenant A with an approved living-subsidy list for s1 (the two pupils of c2),
    a released batch whose lines came back one paid and one failed, and a partly recovered payment:
    every measure of the money holds an amount with fen."""
    w = world.a
    district = w.users[Role.DISTRICT_STAFF]
    with tenant_of(w.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in w.students["c2"]:
            identify(w, pupil)
        approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
        paid_award, failed_award = Award.objects.filter(semester=semester).order_by("student__name")
        batch = Batch.objects.create(
            semester=semester, number=1, kind=BatchKind.FIRST, status=BatchStatus.RELEASED, created_by=district
        )
        lines = {}
        for award, status in ((paid_award, LineStatus.PAID), (failed_award, LineStatus.FAILED)):
            pupil = award.student
            lines[status] = PaymentLine.objects.create(
                batch=batch, award=award, program=award.program, semester=semester, student=pupil,
                school=award.school, grade_id=award.grade_id, klass_id=award.klass_id, amount=award.amount,
                source=award.program.source, bank="农村信用社", account=pupil.card_account.reveal(),
                holder=pupil.card_holder, status=status,
            )  # fmt: skip
        correction = Correction.objects.create(
            kind=CorrectionKind.RECOVER, award=paid_award, line=lines[LineStatus.PAID], school=paid_award.school,
            amount=paid_award.amount, reason="test", proposed_by=district, status=CorrectionStatus.APPROVED,
        )  # fmt: skip
        Recovery.objects.create(
            correction=correction, line=lines[LineStatus.PAID], school=paid_award.school,
            amount=paid_award.amount, recovered_amount=Decimal("100.25"),
        )  # fmt: skip
        # The lines and the recovery were written behind the services: the summary's safety net sums them.
        money_summary_rebuild()
    return semester
