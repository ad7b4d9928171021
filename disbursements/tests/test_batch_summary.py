"""The batch summary (disbursements.batch_summary) equals the lines grouped by (batch, school, status), count
and amount, after each service that adds lines to a batch or moves their status, in the walk a semester
goes through: a batch built, a school's confirmation removing a pupil who left, lines excluded, the
release, the bank's return with a failure, a reissue batch and a stop taking effect on its pending line.
Each step also shows the summary moved with it (a service that forgot to refresh fails here). The safety
net rebuilds the same rows; a school's officer reads their school's rows only (the dashboard reading it:
oversight/tests/test_dashboard.py)."""

from __future__ import annotations

from decimal import Decimal

from django.core.management import call_command
from django.db.models import Count, Sum

from disbursements.batch_summary import batch_rows, batch_rows_live, batch_summary_rebuild
from disbursements.models import BatchKind, BatchLineSummary, CorrectionKind, LineStatus, PaymentLine
from disbursements.services import batches
from disbursements.services.corrections import correction_decide, correction_propose
from disbursements.tests.test_exports import POST, Released, _approve_s2
from disbursements.tests.test_returns import answer, csv_file, do_import, roster
from schools.permissions import Action, Role
from students.models import EnrollmentStatus, Student
from tests.factories import make_semester
from tests.money import approved_list, identify

L = LineStatus


def _summary(semester) -> dict[tuple, tuple]:
    return {
        (r.batch_id, r.school_id, r.status): (r.lines, r.amount)
        for r in BatchLineSummary.objects.filter(semester=semester)
    }


def _live(semester) -> dict[tuple, tuple]:
    return {
        (r["batch_id"], r["school_id"], r["status"]): (r["n"], r["total"])
        for r in PaymentLine.objects.filter(semester=semester)
        .order_by()
        .values("batch_id", "school_id", "status")
        .annotate(n=Count("pk"), total=Sum("amount"))
    }


def _agrees(user, semester) -> dict:
    summary = _summary(semester)
    assert summary == _live(semester)
    rows = batch_rows(user=user, semester=semester, action=Action.DASHBOARD_VIEW)
    assert rows == batch_rows_live(user=user, semester=semester, action=Action.DASHBOARD_VIEW)
    return {(batch, status): sum(v[0] for k, v in summary.items() if k[0] == batch and k[2] == status)
            for batch, _school, status in summary}  # fmt: skip


def test_the_summary_moves_with_every_line_service_and_equals_the_lines(world, tenant_of):
    w = world.a
    district, officer = w.users[Role.DISTRICT_STAFF], w.users[Role.SCHOOL_OFFICER]
    with tenant_of(w.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in w.students["c3"] + w.students["c4"][:1]:  # two banks: the roster in the default layout
            Student.objects.filter(pk=pupil.pk).update(card_bank=POST)
        for pupil in w.all_students:
            identify(w, pupil)
        approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
        officer2 = _approve_s2(w, semester)

        # Built: every line pending.
        first = batches.batch_build(actor=district, semester=semester, kind=BatchKind.FIRST).batch
        s = _agrees(district, semester)
        assert s == {(first.pk, L.PENDING): 8}

        # s1 confirms its pupils; one has left, and their line leaves the batch.
        gone = w.students["c1"][0]
        Student.objects.filter(pk=gone.pk).update(enrollment_status=EnrollmentStatus.TRANSFERRED_OUT)
        batches.batch_confirm_school(actor=officer, batch=first, school=w.schools["s1"])
        assert _agrees(district, semester) == {(first.pk, L.PENDING): 7, (first.pk, L.REMOVED): 1}
        batches.batch_confirm_school(actor=officer2, batch=first, school=w.schools["s2"])

        # The bank refuses a line: it is excluded from the batch.
        excluded = PaymentLine.objects.filter(batch=first, school=w.schools["s2"]).order_by("pk").first()
        batches.batch_exclude_lines(actor=district, batch=first, line_ids=[excluded.pk], reason="户名不符")
        assert _agrees(district, semester) == {(first.pk, L.PENDING): 6, (first.pk, L.REMOVED): 2}

        # Released: the lines are sent.
        first = batches.batch_release(actor=district, batch=first)
        assert _agrees(district, semester) == {(first.pk, L.EXPORTED): 6, (first.pk, L.REMOVED): 2}

        # The bank's return: one failed, the others paid.
        released = Released(batch=first, semester=semester, district=district)
        lines = roster(first, district)
        failed_ref = lines[0]["业务编号"]
        do_import(
            released, csv_file([answer(x, "失败", "E01", "卡未激活") if x is lines[0] else answer(x) for x in lines])
        )
        assert _agrees(district, semester) == {(first.pk, L.PAID): 5, (first.pk, L.FAILED): 1, (first.pk, L.REMOVED): 2}

        # The card fixed, a reissue batch takes the failed award (and the excluded one); a stop (停发)
        # on one of them takes effect on its pending line.
        failed = PaymentLine.objects.get(pk=failed_ref)
        student = Student.objects.get(pk=failed.student_id)
        student.card_account = "6228480000000000018"
        student.save(update_fields=["card_account", "card_account_hash", "updated_at"])
        reissue = batches.batch_build(actor=district, semester=semester, kind=BatchKind.REISSUE).batch
        pending = _agrees(district, semester)[(reissue.pk, L.PENDING)]
        assert pending >= 1
        line = PaymentLine.objects.filter(batch=reissue).order_by("pk").first()
        stop = correction_propose(actor=officer2 if line.school_id == w.schools["s2"].pk else officer,
                                  award=line.award, reason="重复申请")  # fmt: skip
        assert stop.kind == CorrectionKind.STOP
        correction_decide(actor=district, correction=stop, approve=True)
        s = _agrees(district, semester)
        assert (s.get((reissue.pk, L.PENDING), 0), s[(reissue.pk, L.REMOVED)]) == (pending - 1, 1)

        # The safety net rebuilds exactly the rows the services kept (ids aside), alone and with the money.
        kept = _summary(semester)
        batch_summary_rebuild()
        assert _summary(semester) == kept
        call_command("money_summary_rebuild", tenant=w.tenant.slug, stdout=None)
        assert _summary(semester) == kept

        # What the dashboard's chart shows: first batch 6 lines (removed ones aside), 5 paid, 1 failed.
        row = batch_rows(user=district, semester=semester, action=Action.DASHBOARD_VIEW)[first.pk]
        assert (row["lines"], row["paid"], row["failed"]) == (6, 5, 1)
        assert row["paid_amount"] == sum(
            (x.amount for x in PaymentLine.objects.filter(batch=first, status=L.PAID)), Decimal("0.00")
        )


def test_written_behind_the_services_the_summary_waits_for_the_rebuild(world, tenant_of):
    """The limit, shown: a line changed with a bare UPDATE is not counted until the rebuild (the
    dashboard's figure is the summary's, not the lines')."""
    w = world.a
    district = w.users[Role.DISTRICT_STAFF]
    with tenant_of(w.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in w.students["c1"]:
            identify(w, pupil)
        approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
        batch = batches.batch_build(actor=district, semester=semester, kind=BatchKind.FIRST).batch
        before = _summary(semester)
        PaymentLine.objects.filter(batch=batch).update(status=L.PAID)
        assert _summary(semester) == before != _live(semester)
        assert batch_rows(user=district, semester=semester, action=Action.DASHBOARD_VIEW)[batch.pk]["paid"] == 0
        batch_summary_rebuild()
        _agrees(district, semester)
        paid = PaymentLine.objects.filter(batch=batch).count()
        assert batch_rows(user=district, semester=semester, action=Action.DASHBOARD_VIEW)[batch.pk]["paid"] == paid > 0


def test_a_school_reads_its_own_schools_rows_only(world, tenant_of):
    w = world.a
    district, officer = w.users[Role.DISTRICT_STAFF], w.users[Role.SCHOOL_OFFICER]
    with tenant_of(w.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in w.all_students:
            identify(w, pupil)
        approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
        officer2 = _approve_s2(w, semester)
        batch = batches.batch_build(actor=district, semester=semester, kind=BatchKind.FIRST).batch
        counts = {}
        for user in (district, officer, officer2):
            rows = batch_rows(user=user, semester=semester, action=Action.DASHBOARD_VIEW)
            assert rows == batch_rows_live(user=user, semester=semester, action=Action.DASHBOARD_VIEW)
            counts[user.pk] = rows[batch.pk]["lines"]
        s1 = PaymentLine.objects.filter(batch=batch, school=w.schools["s1"]).count()
    assert (counts[district.pk], counts[officer.pk], counts[officer2.pk]) == (8, s1, 8 - s1)
    assert 0 < s1 < 8
