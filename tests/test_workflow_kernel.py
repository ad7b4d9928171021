"""core.workflow: every status changes through the transitions its model declares (django-fsm), one
row at a time or in bulk, and a bulk change cannot do what the one-row path forbids."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core import workflow
from disbursements.models import Batch, BatchKind, BatchStatus, Correction, LineStatus, PaymentLine, Recovery
from disbursements.services import batches
from funding.models import Award, AwardList, AwardStatus
from schools.permissions import Role
from students.models import HardshipApplication, Objection, Publicity, TierAdjustment
from tests.factories import make_semester
from tests.money import approved_list, identify


@pytest.mark.parametrize(
    "model",
    [HardshipApplication, Publicity, Objection, TierAdjustment, AwardList, Award, Batch, PaymentLine, Correction,
     Recovery],
)  # fmt: skip
def test_every_workflow_status_is_a_protected_state_field(model):
    field = model._meta.get_field("status")
    assert field.protected, f"{model.__name__}.status can be assigned"
    assert list(field.get_all_transitions(model)), f"{model.__name__} declares no transition"


def test_a_protected_status_cannot_be_assigned(world, tenant_of):
    with tenant_of(world.a.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        identify(world.a, world.a.students["c2"][0])
        award = approved_list(world.a, program_code="LIVING_SUBSIDY", semester=semester).awards.first()
        with pytest.raises(AttributeError):
            award.status = AwardStatus.PROPOSED


def test_unknown_transitions_and_conditional_ones_are_refused_in_bulk():
    with pytest.raises(LookupError):
        workflow.transitions_named(PaymentLine, "teleport")
    # The review chain's steps carry conditions (evidence, the village's confirmation): one row at a time.
    with pytest.raises(ValueError, match="cannot be fired in bulk"):
        workflow.bulk_transition(HardshipApplication.objects.none(), "class_approve")


def test_releasing_moves_only_pending_lines_and_says_when(world, tenant_of):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in world.a.students["c2"]:
            identify(world.a, pupil)
        approved_list(world.a, program_code="LIVING_SUBSIDY", semester=semester)
        batch = batches.batch_build(actor=district, semester=semester, kind=BatchKind.FIRST).batch
        kept, removed = list(batch.lines.order_by("pk"))
        batches.batch_exclude_lines(actor=district, batch=batch, line_ids=[removed.pk], reason="银行退回")
        long_ago = timezone.now() - dt.timedelta(days=1)
        PaymentLine.objects.filter(pk__in=[kept.pk, removed.pk]).update(updated_at=long_ago)
        batches.batch_confirm_school(
            actor=world.a.users[Role.SCHOOL_OFFICER], batch=batch, school=world.a.schools["s1"]
        )
        batches.batch_release(actor=district, batch=batch)
        kept.refresh_from_db()
        removed.refresh_from_db()
        assert kept.status == LineStatus.EXPORTED
        assert kept.updated_at > long_ago  # an UPDATE skips auto_now: the transition sets it
        assert removed.status == LineStatus.REMOVED  # "export" starts only from PENDING
        assert removed.updated_at == long_ago
        batch.refresh_from_db()
        assert batch.status == BatchStatus.RELEASED
