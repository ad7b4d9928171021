"""A semester paid end to end, to the fen: programs seeded → identified students → award lists →
publicity → approval → first batch → payment roster → a bank return with failures → a second batch
with the fixed card and the omissions → a stop and a recovery → the ledger."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from disbursements.ledger import semester_ledger
from disbursements.models import BatchKind, BatchStatus, LineStatus, PaymentLine, RecoveryStatus
from disbursements.services import batches, corrections
from disbursements.services.exports import payment_roster
from disbursements.services.returns import bank_return_import
from funding.models import Award, AwardListStatus, AwardStatus, Budget, Program
from funding.services import awards, budgets, semesters
from schools.permissions import Role
from students.models import Student
from tests.money import identify

D = Decimal


def _return_csv(rows: list[tuple[PaymentLine, str, str, str]]) -> io.BytesIO:
    lines = ["业务编号,账号,金额,状态,错误代码,失败原因"]
    lines += [
        f"{line.pk},{line.account.reveal()},{line.amount},{status},{code},{why}" for line, status, code, why in rows
    ]
    return io.BytesIO("\n".join(lines).encode("gb18030"))


def test_a_semester_paid_end_to_end_to_the_fen(world, tenant_of, fictional_2027):
    """(The spring semester's lists are published in 2027: on the fictional calendar of that year.)"""
    w = world.a
    officer, district, principal = w.users[Role.SCHOOL_OFFICER], w.users[Role.DISTRICT_STAFF], w.users[Role.PRINCIPAL]
    with tenant_of(w.tenant):
        # Programs are seeded with the tenant; the district opens the semester (standards copied in).
        assert Program.objects.filter(code="LIVING_SUBSIDY").exists()
        semester = semesters.semester_create(
            actor=district, academic_year=2026, term="SPRING", starts_on=dt.date(2027, 3, 1),
            ends_on=dt.date(2027, 7, 10), deadline=dt.date(2099, 6, 1),
        )  # fmt: skip
        program = Program.objects.get(code="LIVING_SUBSIDY")
        pupils = [*w.students["c1"], *w.students["c2"]]
        boarder = pupils[0]
        Student.objects.filter(pk=boarder.pk).update(is_boarding=True)
        for pupil in pupils:
            identify(w, pupil)
        budgets.budgets_compute(actor=district, program=program, semester=semester)

        # Award list: built from the rules, published (公示), approved after the period.
        al = awards.award_list_build(actor=officer, program=program, semester=semester, school=w.schools["s1"])
        assert al.awards.count() == 4
        al = awards.award_list_publish(actor=officer, award_list=al, starts_on=dt.date(2027, 3, 8))
        al = awards.award_list_approve(actor=district, award_list=al, today=al.ends_on + dt.timedelta(days=1))
        assert al.status == AwardListStatus.APPROVED
        approved = D("500.00") + 3 * D("250.00")
        assert sum(a.amount for a in Award.objects.filter(award_list=al, status=AwardStatus.APPROVED)) == approved

        # First batch: built, each school confirms its pupils still attend, released, exported.
        first = batches.batch_build(actor=district, semester=semester, kind=BatchKind.FIRST).batch
        batches.batch_confirm_school(actor=officer, batch=first, school=w.schools["s1"])
        first = batches.batch_release(actor=district, batch=first)
        roster = io.BytesIO()
        payment_roster(actor=district, batch=first, fmt="xlsx", target=roster)
        roster.seek(0)
        sheet = openpyxl.load_workbook(roster, read_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        assert len(rows) == 1 + 4  # header and the four lines
        sent = list(first.lines.order_by("pk"))
        assert sum(line.amount for line in sent) == approved

        # The bank pays two (the boarder's 500 among them) and refuses two day pupils' (a card not
        # activated, a name mismatch).
        boarder_line = next(line for line in sent if line.amount == D("500.00"))
        not_activated, mismatch, day_paid = [line for line in sent if line.amount == D("250.00")]
        paid = [boarder_line, day_paid]
        result = bank_return_import(
            actor=district,
            batch=first,
            path_or_file=_return_csv(
                [(not_activated, "失败", "E01", "卡未激活"), (mismatch, "失败", "E07", "户名不符")]
                + [(line, "成功", "", "") for line in paid]
            ),
            file_name="回盘-1.csv",
        )
        assert result.reconciliation.balanced
        first.refresh_from_db()
        assert first.status == BatchStatus.CLOSED
        failed_line = PaymentLine.objects.get(pk=not_activated.pk)
        assert (failed_line.status, failed_line.bank_code, failed_line.return_file) == (
            LineStatus.FAILED,
            "E01",
            "回盘-1.csv",
        )

        # The family of the first activates a new card; a pupil identified late is an omission.
        student = Student.objects.get(pk=not_activated.student_id)
        student.card_account = "6228480000000000099"
        student.save(update_fields=["card_account", "card_account_hash", "updated_at"])
        late = w.students["c3"][0]
        identify(w, late)
        al = awards.award_list_build(actor=officer, program=program, semester=semester, school=w.schools["s1"])
        omission = Award.objects.get(award_list=al, student=late)
        assert omission.added_late
        al = awards.award_list_publish(actor=officer, award_list=al, starts_on=dt.date(2027, 4, 12))
        # The school's budget is spent: the district moves money to it for the omission first.
        budget = Budget.objects.get(program=program, semester=semester, school=w.schools["s1"])
        with pytest.raises(ValidationError):
            awards.award_list_approve(actor=district, award_list=al, today=al.ends_on + dt.timedelta(days=1))
        budgets.budget_adjust(actor=district, budget=budget, adjustment=D("250.00"), note="补录遗漏学生")
        awards.award_list_approve(actor=district, award_list=al, today=al.ends_on + dt.timedelta(days=1))

        # Second batch (补发): the fixed card and the omission; the unfixed card waits, with its reason.
        second = batches.batch_build(actor=district, semester=semester, kind=BatchKind.REISSUE)
        assert {line.award_id for line in second.batch.lines.all()} == {not_activated.award_id, omission.pk}
        assert [award for award, _why in second.skipped] == [mismatch.award_id]

        # A stop: the omission turns out to have left school before term; its line leaves the batch.
        stop = corrections.correction_propose(actor=officer, award=omission, reason="该生已于开学前转出")
        corrections.correction_decide(actor=district, correction=stop, approve=True)
        batches.batch_confirm_school(actor=officer, batch=second.batch, school=w.schools["s1"])
        second_batch = batches.batch_release(actor=district, batch=second.batch)
        fixed_line = second_batch.lines.get(status=LineStatus.EXPORTED)
        bank_return_import(
            actor=district,
            batch=second_batch,
            path_or_file=_return_csv([(fixed_line, "成功", "", "")]),
            file_name="回盘-2.csv",
        )

        # A recovery: one paid in the first batch should not have been (found later); half comes back.
        wrong = PaymentLine.objects.get(pk=paid[0].pk)
        recover = corrections.correction_propose(actor=officer, award=wrong.award, reason="重复享受其他资助")
        corrections.correction_decide(actor=district, correction=recover, approve=True)
        case = corrections.recovery_record(actor=officer, recovery=recover.recoveries.get(), amount=D("125.00"))
        assert case.status == RecoveryStatus.OPEN

        # The ledger: every total is the sum of its lines, to the fen.
        ledger = semester_ledger(user=district, semester=semester)
        lines = PaymentLine.objects.filter(semester=semester)
        paid_sum = sum((x.amount for x in lines.filter(status=LineStatus.PAID)), D("0"))
        assert ledger.paid == paid_sum == D("500.00") + D("250.00") + D("250.00")  # incl. the fixed card
        assert ledger.failed == D("250.00")  # the name mismatch, still waiting
        assert ledger.recovered == D("125.00")
        approved_now = sum(
            (a.amount for a in Award.objects.filter(semester=semester, status=AwardStatus.APPROVED)), D("0")
        )
        assert ledger.approved == approved_now
        assert ledger.paid == sum((r.paid for r in ledger.rows), D("0"))
        assert ledger.students == 5
        # The auditor sees the same money.
        assert semester_ledger(user=w.users[Role.DISTRICT_AUDITOR], semester=semester).paid == ledger.paid
        assert principal is not None
