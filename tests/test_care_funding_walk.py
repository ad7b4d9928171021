"""Dropout control tied to funding (issue 16, item 4; the issue's "Done means"): a pupil walks from five
days' unexplained absence (the 6th day: suspected) to a confirmed dropout, which changes the enrollment
status and proposes a stop (停发) of the unpaid award; the district approves it (four eyes) and the
award's line leaves the batch; persuasion (劝返), the return (复学), the stop reversed with the district's
approval, and the award paid in the next reissue batch (补发). Every step is audited and the tenant's
chain verifies. Services and factories only."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext as _

from audits.verify import verify_tenant_chain
from care import services
from care.models import AbsenceReason, CaseStatus, CaseStep, DropoutCase, NoticeLevel, StepKind
from core import clock
from core.audit.models import AuditEvent
from disbursements.models import BatchKind, Correction, CorrectionKind, CorrectionStatus, LineStatus, PaymentLine
from disbursements.services import batches, corrections
from disbursements.services.returns import bank_return_import
from funding.models import Award, AwardStatus
from schools.permissions import Role
from students.models import EnrollmentStatus, StatusChange, Student
from tests.factories import make_case, make_semester
from tests.money import approved_list, identify

#: Six school days of unexplained absence (National Day week is a holiday on the calendar).
ABSENT_DAYS = [dt.date(2026, 9, d) for d in (28, 29, 30)] + [dt.date(2026, 10, d) for d in (8, 9, 10)]
CONFIRMED_ON, RETURNED_ON = dt.date(2026, 10, 12), dt.date(2026, 10, 20)


def _return_csv(lines: list[PaymentLine]) -> io.BytesIO:
    rows = ["业务编号,账号,金额,状态,错误代码,失败原因"]
    rows += [f"{line.pk},{line.account.reveal()},{line.amount},成功,," for line in lines]
    return io.BytesIO("\n".join(rows).encode("gb18030"))


def _release(w, batch):
    batches.batch_confirm_school(actor=w.users[Role.SCHOOL_OFFICER], batch=batch, school=w.schools["s1"])
    return batches.batch_release(actor=w.users[Role.DISTRICT_STAFF], batch=batch)


def _status(pupil) -> str:
    return Student.objects.get(pk=pupil.pk).enrollment_status


def test_a_dropout_stops_the_unpaid_award_and_the_return_pays_it_in_the_next_reissue_batch(world, tenant_of):
    w = world.a
    pupil = w.students["c1"][1]
    teacher, officer, district = (w.users[r] for r in (Role.CLASS_TEACHER, Role.SCHOOL_OFFICER, Role.DISTRICT_STAFF))
    with tenant_of(w.tenant):
        # The pupil's living subsidy of the spring semester is approved; the first batch holds its line.
        semester = make_semester(academic_year=2026, term="SPRING")
        identify(w, pupil)
        approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
        award = Award.objects.get(student=pupil, semester=semester)
        first = batches.batch_build(actor=district, semester=semester, kind=BatchKind.FIRST).batch
        assert PaymentLine.objects.get(batch=first, award=award).status == LineStatus.PENDING

        # Five school days of unexplained absence make a case; the sixth makes a suspected dropout.
        for day in ABSENT_DAYS:
            with clock.frozen_at(day):
                services.attendance_record(
                    actor=teacher, klass=w.classes["c1"], day=day, absences={pupil.pk: AbsenceReason.UNEXPLAINED}
                )
            status = DropoutCase.objects.get(student=pupil).status
            assert status == (CaseStatus.SUSPECTED if day == ABSENT_DAYS[-1] else CaseStatus.ABSENT), day
        case = DropoutCase.objects.get(student=pupil)

        # The school confirms: the enrollment changes through the audited path, and a stop is proposed,
        # by the person confirming, naming the case. Nothing is stopped before the district approves.
        with clock.frozen_at(CONFIRMED_ON):
            services.case_step_record(actor=teacher, case=case, kind=StepKind.HOME_VISIT, done_on=CONFIRMED_ON)
            services.case_transition(actor=officer, case=case, name="confirm")
        assert _status(pupil) == EnrollmentStatus.DROPPED_OUT
        change = StatusChange.objects.get(student=pupil, to_status=EnrollmentStatus.DROPPED_OUT)
        assert (change.from_status, change.changed_on, change.source) == (
            EnrollmentStatus.ATTENDING,
            CONFIRMED_ON,
            "dropout_case",
        )
        stop = Correction.objects.get(award=award)
        assert (stop.kind, stop.status, stop.proposed_by_id) == (
            CorrectionKind.STOP,
            CorrectionStatus.PROPOSED,
            officer.pk,
        )
        assert pupil.name in stop.reason
        assert stop.evidence == services.case_evidence(case)
        assert Award.objects.get(pk=award.pk).status == AwardStatus.APPROVED
        assert PaymentLine.objects.get(batch=first, award=award).status == LineStatus.PENDING

        # Four eyes: the proposer cannot approve it; the district does. The line leaves the batch.
        with pytest.raises((PermissionDenied, ValidationError)):
            corrections.correction_decide(actor=officer, correction=stop, approve=True)
        corrections.correction_decide(actor=district, correction=stop, approve=True)
        assert Award.objects.get(pk=award.pk).status == AwardStatus.STOPPED
        assert PaymentLine.objects.get(batch=first, award=award).status == LineStatus.REMOVED
        first = _release(w, first)
        assert not first.lines.filter(award=award, status=LineStatus.EXPORTED).exists()
        # While stopped, no reissue batch pays it.
        waiting = batches.batch_build(actor=district, semester=semester, kind=BatchKind.REISSUE)
        assert award.pk not in {line.award_id for line in (waiting.batch.lines.all() if waiting.batch else [])}
        if waiting.batch:
            _release(w, waiting.batch)

        # Persuasion: the case's chiefs visit and deliver the notice; the pupil comes back.
        with clock.frozen_at(RETURNED_ON):
            services.case_transition(actor=officer, case=case, name="start_persuasion")
            services.case_step_record(
                actor=officer,
                case=case,
                kind=StepKind.WRITTEN_NOTICE,
                done_on=RETURNED_ON - dt.timedelta(days=5),
                notice_level=NoticeLevel.RETURN_NOTICE,
            )
            services.case_transition(actor=officer, case=case, name="mark_returned")
        assert DropoutCase.objects.get(pk=case.pk).status == CaseStatus.RETURNED
        assert _status(pupil) == EnrollmentStatus.ATTENDING
        assert StatusChange.objects.filter(student=pupil, to_status=EnrollmentStatus.ATTENDING, changed_on=RETURNED_ON)
        resume = Correction.objects.get(reverses=stop)
        assert (resume.kind, resume.status, resume.proposed_by_id) == (
            CorrectionKind.REVERSE,
            CorrectionStatus.PROPOSED,
            officer.pk,
        )
        # The reversal waits for the district: until then the award stays stopped and unpaid.
        assert Award.objects.get(pk=award.pk).status == AwardStatus.STOPPED
        assert batches.batch_build(actor=district, semester=semester, kind=BatchKind.REISSUE).batch is None
        corrections.correction_decide(actor=district, correction=resume, approve=True)
        assert Award.objects.get(pk=award.pk).status == AwardStatus.APPROVED

        # The next reissue batch carries the award, and the bank pays it.
        reissue = batches.batch_build(actor=district, semester=semester, kind=BatchKind.REISSUE).batch
        assert reissue.kind == BatchKind.REISSUE
        line = reissue.lines.get(award=award)
        reissue = _release(w, reissue)
        bank_return_import(
            actor=district,
            batch=reissue,
            path_or_file=_return_csv(list(reissue.lines.filter(status=LineStatus.EXPORTED))),
            file_name="回盘-补发.csv",
        )
        assert PaymentLine.objects.get(pk=line.pk).status == LineStatus.PAID

        # Every step is in the audit trail, and the chain verifies.
        on_case = set(AuditEvent.objects.filter(object_id=str(case.pk)).values_list("action", flat=True))
        on_pupil = set(AuditEvent.objects.filter(object_id=str(pupil.pk)).values_list("action", flat=True))
        on_money = set(
            AuditEvent.objects.filter(object_id__in=[str(stop.pk), str(resume.pk), str(award.pk)]).values_list(
                "action", flat=True
            )
        )
    assert {
        "care.case_open",
        "care.case_suspect",
        "care.case_confirm",
        "care.case_start_persuasion",
        "care.case_mark_returned",
    } <= on_case
    assert "student.status_change" in on_pupil
    assert {
        "correction.propose_stop",
        "correction.approve_stop",
        "correction.propose_reverse",
        "correction.approve_reverse",
    } <= on_money
    assert verify_tenant_chain(w.tenant.pk) == []


def test_a_role_that_cannot_propose_a_stop_cannot_confirm_a_funded_pupils_dropout(world, tenant_of):
    """Never silently: the principal decides on cases but proposes no corrections; confirming a pupil
    with an unpaid award is refused with a clear message and changes nothing."""
    w = world.a
    pupil = w.students["c1"][1]
    with tenant_of(w.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        identify(w, pupil)
        approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
        case = make_case(pupil, by=w.users[Role.CLASS_TEACHER], status=CaseStatus.SUSPECTED, absent_days=6)
        with clock.frozen_at(CONFIRMED_ON), pytest.raises(services.CareError) as refused:
            services.case_transition(actor=w.users[Role.PRINCIPAL], case=case, name="confirm")
        assert str(services.MSG_FUNDING_ROLE % {"n": 1}) in refused.value.messages
        assert DropoutCase.objects.get(pk=case.pk).status == CaseStatus.SUSPECTED
        assert _status(pupil) == EnrollmentStatus.ATTENDING
        assert not Correction.objects.filter(award__student=pupil).exists()
        assert not StatusChange.objects.filter(student=pupil).exists()
        # The school's officer may: the stop is proposed in the officer's name.
        with clock.frozen_at(CONFIRMED_ON):
            services.case_transition(actor=w.users[Role.SCHOOL_OFFICER], case=case, name="confirm")
        assert Correction.objects.get(award__student=pupil).proposed_by_id == w.users[Role.SCHOOL_OFFICER].pk


def test_the_case_page_lists_the_stop_waiting_and_a_refusal_is_a_message(world, tenant_of):
    w = world.a
    pupil = w.students["c1"][1]
    with tenant_of(w.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        identify(w, pupil)
        approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
        case = make_case(pupil, by=w.users[Role.CLASS_TEACHER], status=CaseStatus.SUSPECTED, absent_days=6)
    page = reverse("care:case", kwargs={"pk": case.pk})
    move = reverse("care:case_transition", kwargs={"pk": case.pk})
    principal, officer, teacher = Client(), Client(), Client()
    principal.force_login(w.users[Role.PRINCIPAL])
    officer.force_login(w.users[Role.SCHOOL_OFFICER])
    teacher.force_login(w.users[Role.CLASS_TEACHER])
    # The principal's confirmation: refused with the reason on the page, not a 500; nothing moved.
    response = principal.post(move, {"name": "confirm", "expected_status": CaseStatus.SUSPECTED}, follow=True)
    assert response.status_code == 200
    assert str(services.MSG_FUNDING_ROLE % {"n": 1}) in response.content.decode()
    with tenant_of(w.tenant):
        assert DropoutCase.objects.get(pk=case.pk).status == CaseStatus.SUSPECTED
    # The officer's: the case page lists the stop waiting for the district, and links to the approvals.
    officer.post(move, {"name": "confirm", "expected_status": CaseStatus.SUSPECTED})
    shown = officer.get(page).content.decode()
    assert 'data-testid="case-corrections"' in shown
    assert reverse("disbursements:corrections") in shown
    # The class teacher follows the case but sees no funding.
    assert 'data-testid="case-corrections"' not in teacher.get(page).content.decode()


def test_an_award_at_the_bank_is_not_stopped_blind_and_the_case_says_so(world, tenant_of):
    """A line sent to the bank cannot be stopped (the correction workflow refuses): the confirmation
    changes the enrollment, proposes nothing for that award, and its step says to act after the return."""
    w = world.a
    pupil = w.students["c1"][1]
    officer, district = w.users[Role.SCHOOL_OFFICER], w.users[Role.DISTRICT_STAFF]
    with tenant_of(w.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        identify(w, pupil)
        approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
        first = _release(w, batches.batch_build(actor=district, semester=semester, kind=BatchKind.FIRST).batch)
        assert first.lines.get(award__student=pupil).status == LineStatus.EXPORTED
        case = make_case(pupil, by=w.users[Role.CLASS_TEACHER], status=CaseStatus.SUSPECTED, absent_days=6)
        with clock.frozen_at(CONFIRMED_ON):
            services.case_transition(actor=officer, case=case, name="confirm")
        assert _status(pupil) == EnrollmentStatus.DROPPED_OUT
        assert not Correction.objects.filter(award__student=pupil).exists()
        step = CaseStep.objects.get(case=case, to_status=CaseStatus.CONFIRMED)
        assert str(_("%(n)d award(s) at the bank: stop or recover after the return")) % {"n": 1} in step.notes
