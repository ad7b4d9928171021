"""Batches: never paid twice (in one batch, across batches, from two requests at once), never ¥0,
the schools' enrollment gate, rebuilding without refused lines, stop and recover."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction

from core.tenancy.context import tenant_transaction
from disbursements.models import BatchKind, BatchStatus, CorrectionKind, LineStatus, PaymentLine, RecoveryStatus
from disbursements.services import batches, corrections
from funding.models import AwardStatus
from schools.permissions import Role
from students.models import EnrollmentStatus, Student
from tests.factories import make_semester
from tests.money import approved_list, identify


def _release(w, batch):
    batches.batch_confirm_school(actor=w.users[Role.SCHOOL_OFFICER], batch=batch, school=w.schools["s1"])
    return batches.batch_release(actor=w.users[Role.DISTRICT_STAFF], batch=batch)


def test_the_first_batch_takes_every_approved_award_once(world, tenant_of, paid_semester):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        result = batches.batch_build(actor=district, semester=paid_semester, kind=BatchKind.FIRST)
        assert result.lines == 2
        assert result.batch.status == BatchStatus.FROZEN
        assert sum(line.amount for line in result.batch.lines.all()) == Decimal("500.00")
        with pytest.raises(ValidationError):
            batches.batch_build(actor=district, semester=paid_semester, kind=BatchKind.REISSUE)  # one open at a time
        _release(world.a, result.batch)
        with pytest.raises(ValidationError):
            batches.batch_build(actor=district, semester=paid_semester, kind=BatchKind.FIRST)  # one first batch
        second = batches.batch_build(actor=district, semester=paid_semester, kind=BatchKind.REISSUE)
        assert (second.lines, second.batch) == (0, None)  # nothing new: the awards already have live lines


def test_the_database_refuses_a_second_live_line_and_a_zero_line(world, tenant_of, paid_semester):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        first = batches.batch_build(actor=district, semester=paid_semester, kind=BatchKind.FIRST).batch
        line = first.lines.first()
        twin = PaymentLine(
            batch=first, award=line.award, program_id=line.program_id, semester_id=line.semester_id,
            student_id=line.student_id, school_id=line.school_id, grade_id=line.grade_id, klass_id=line.klass_id,
            amount=line.amount, source=line.source, bank=line.bank, account=line.account.reveal(), holder=line.holder,
        )  # fmt: skip
        with pytest.raises(IntegrityError), transaction.atomic():
            twin.save()  # in the same batch
        twin.amount = Decimal("0.00")
        with pytest.raises(IntegrityError), transaction.atomic():
            PaymentLine.objects.filter(pk=line.pk).update(amount=Decimal("0.00"))


def test_a_failed_line_is_paid_again_in_the_reissue_batch_and_only_then(world, tenant_of, paid_semester):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        first = batches.batch_build(actor=district, semester=paid_semester, kind=BatchKind.FIRST).batch
        _release(world.a, first)
        failed, paid = first.lines.order_by("pk")
        PaymentLine.objects.filter(pk=failed.pk).update(
            status=LineStatus.FAILED, bank_code="E01", bank_message="卡未激活"
        )
        PaymentLine.objects.filter(pk=paid.pk).update(status=LineStatus.PAID)
        # The card is not fixed yet: the award waits, with the bank's reason.
        waiting = batches.batch_build(actor=district, semester=paid_semester, kind=BatchKind.REISSUE)
        assert (waiting.lines, waiting.batch) == (0, None)
        [(award_id, why)] = waiting.skipped
        assert award_id == failed.award_id
        assert "卡未激活" in why  # the bank's reason, in the message (whatever the language)
        # The family activates a new card: the next reissue batch pays it.
        student = Student.objects.get(pk=failed.student_id)
        student.card_account = "6228480000000000011"
        student.save(update_fields=["card_account", "card_account_hash", "updated_at"])
        second = batches.batch_build(actor=district, semester=paid_semester, kind=BatchKind.REISSUE)
        assert [line.award_id for line in second.batch.lines.all()] == [failed.award_id]
        assert second.batch.lines.get().account.reveal() == "6228480000000000011"
        assert second.batch.number == 2


@pytest.mark.django_db(transaction=True)
def test_two_batches_built_at_once_never_pay_an_award_twice():
    from tests.factories import build_world

    world = build_world()
    w = world.a
    with tenant_transaction(w.tenant.pk):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in w.students["c2"]:
            identify(w, pupil)
        approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def build():
        try:
            barrier.wait()
            with tenant_transaction(w.tenant.pk):
                batches.batch_build(actor=w.users[Role.DISTRICT_STAFF], semester=semester, kind=BatchKind.FIRST)
            outcomes.append("built")
        except ValidationError:
            outcomes.append("refused")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["built", "refused"]
    with tenant_transaction(w.tenant.pk):
        assert PaymentLine.objects.filter(semester=semester).count() == 2


def test_the_enrollment_gate_removes_pupils_who_left_and_blocks_release_until_every_school_confirms(
    world, tenant_of, paid_semester
):
    district, officer = world.a.users[Role.DISTRICT_STAFF], world.a.users[Role.SCHOOL_OFFICER]
    with tenant_of(world.a.tenant):
        batch = batches.batch_build(actor=district, semester=paid_semester, kind=BatchKind.FIRST).batch
        with pytest.raises(ValidationError, match=r"confirm|核实|确认"):
            batches.batch_release(actor=district, batch=batch)
        leaver = world.a.students["c2"][0]
        Student.objects.filter(pk=leaver.pk).update(enrollment_status=EnrollmentStatus.TRANSFERRED_OUT)
        with pytest.raises(PermissionDenied):
            batches.batch_confirm_school(
                actor=world.a.users[Role.CLASS_TEACHER], batch=batch, school=world.a.schools["s1"]
            )
        batches.batch_confirm_school(actor=officer, batch=batch, school=world.a.schools["s1"])
        batch = batches.batch_release(actor=district, batch=batch)
        statuses = dict(batch.lines.values_list("student_id", "status"))
        assert statuses[leaver.pk] == LineStatus.REMOVED
        assert list(statuses.values()).count(LineStatus.EXPORTED) == 1


def test_a_batch_refused_by_the_bank_is_rebuilt_without_the_bad_lines(world, tenant_of, paid_semester):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        batch = batches.batch_build(actor=district, semester=paid_semester, kind=BatchKind.FIRST).batch
        _release(world.a, batch)
        bad = batch.lines.order_by("pk").first()
        assert (
            batches.batch_exclude_lines(
                actor=district, batch=batch, line_ids=[bad.pk], reason="户名与账号不符，银行拒收整个文件"
            )
            == 1
        )
        bad.refresh_from_db()
        assert (bad.status, bad.removed_reason) == (LineStatus.REMOVED, "户名与账号不符，银行拒收整个文件")
        assert batch.lines.filter(status=LineStatus.EXPORTED).count() == 1


def test_stop_a_pending_award_and_recover_a_paid_one_with_four_eyes(world, tenant_of, paid_semester):
    district, officer, other = (
        world.a.users[Role.DISTRICT_STAFF],
        world.a.users[Role.SCHOOL_OFFICER],
        world.a.users[Role.DISTRICT_AUDITOR],
    )
    with tenant_of(world.a.tenant):
        batch = batches.batch_build(actor=district, semester=paid_semester, kind=BatchKind.FIRST).batch
        pending, to_pay = batch.lines.order_by("pk")
        # Stop: the line is still pending.
        stop = corrections.correction_propose(
            actor=officer, award=pending.award, reason="该生已转学", evidence="转学证明"
        )
        assert stop.kind == CorrectionKind.STOP
        with pytest.raises(PermissionDenied):  # officers propose, never approve
            corrections.correction_decide(actor=officer, correction=stop, approve=True)
        with pytest.raises(PermissionDenied):
            corrections.correction_decide(
                actor=other, correction=stop, approve=True
            )  # the auditor reads, never decides
        corrections.correction_decide(actor=district, correction=stop, approve=True)
        pending.refresh_from_db()
        assert pending.status == LineStatus.REMOVED
        assert pending.award.status == AwardStatus.STOPPED
        # Recover: the other line was paid.
        _release(world.a, batch)
        PaymentLine.objects.filter(pk=to_pay.pk).update(status=LineStatus.PAID)
        recover = corrections.correction_propose(actor=officer, award=to_pay.award, reason="重复享受")
        assert recover.kind == CorrectionKind.RECOVER
        corrections.correction_decide(actor=district, correction=recover, approve=True)
        case = recover.recoveries.get()
        assert (case.amount, case.status) == (Decimal("250.00"), RecoveryStatus.OPEN)
        corrections.recovery_record(actor=officer, recovery=case, amount=Decimal("100.00"), note="第一次退回")
        with pytest.raises(ValidationError):
            corrections.recovery_record(actor=officer, recovery=case, amount=Decimal("200.00"))  # more than owed
        case = corrections.recovery_record(actor=officer, recovery=case, amount=Decimal("150.00"))
        assert case.status == RecoveryStatus.RECOVERED


def test_a_wrong_stop_is_reversed_with_approval_and_the_award_is_paid_later(world, tenant_of, paid_semester):
    district, officer = world.a.users[Role.DISTRICT_STAFF], world.a.users[Role.SCHOOL_OFFICER]
    with tenant_of(world.a.tenant):
        batch = batches.batch_build(actor=district, semester=paid_semester, kind=BatchKind.FIRST).batch
        line = batch.lines.order_by("pk").first()
        stop = corrections.correction_propose(actor=officer, award=line.award, reason="误以为已辍学")
        corrections.correction_decide(actor=district, correction=stop, approve=True)
        reverse = corrections.correction_reverse_propose(actor=officer, correction=stop, reason="核实该生在校")
        corrections.correction_decide(actor=district, correction=reverse, approve=True)
        line.award.refresh_from_db()
        assert line.award.status == AwardStatus.APPROVED
        _release(world.a, batch)
        again = batches.batch_build(actor=district, semester=paid_semester, kind=BatchKind.REISSUE)
        assert [x.award_id for x in again.batch.lines.all()] == [line.award_id]


def test_a_recovery_written_off_needs_a_second_person(world, tenant_of, paid_semester):
    from tests.factories import user_with_role

    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        colleague = user_with_role(world.a.tenant, Role.DISTRICT_STAFF)
        batch = batches.batch_build(actor=district, semester=paid_semester, kind=BatchKind.FIRST).batch
        _release(world.a, batch)
        line = batch.lines.order_by("pk").first()
        PaymentLine.objects.filter(pk=line.pk).update(status=LineStatus.PAID)
        recover = corrections.correction_propose(actor=district, award=line.award, reason="不符合条件")
        with pytest.raises(ValidationError):
            corrections.correction_decide(actor=district, correction=recover, approve=True)  # four eyes
        with pytest.raises(ValidationError):
            corrections.correction_decide(actor=colleague, correction=recover, approve=False)  # a refusal says why
        corrections.correction_decide(actor=colleague, correction=recover, approve=True)
        case = recover.recoveries.get()
        with pytest.raises(ValidationError):
            corrections.recovery_write_off(actor=district, recovery=case, reason="家庭确无能力退回")
        case = corrections.recovery_write_off(actor=colleague, recovery=case, reason="家庭确无能力退回")
        assert case.status == RecoveryStatus.WRITTEN_OFF
