"""The money summary (disbursements.summary) equals the ledger's `money_by` to the fen for every (program,
school) group, after each service that changes money, in the walk a semester goes through: lists
approved, a batch built and released, the bank's return with a failure, the reissue paying it, an
emergency grant, a stop and its reversal, a recovery and money recovered. Each step also shows the
summary moved with it (a service that forgot to refresh fails here). The safety net rebuilds the same
rows; a school's officer reads their school's rows only."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

from django.core.management import call_command
from django.db.models import Count, Q

from disbursements.ledger import money_by
from disbursements.models import (
    BatchKind,
    CorrectionKind,
    LineStatus,
    MoneySummary,
    PaymentLine,
    Recovery,
    RecoveryStatus,
)
from disbursements.services import batches
from disbursements.services.corrections import (
    correction_decide,
    correction_propose,
    correction_reverse_propose,
    recovery_record,
)
from disbursements.summary import money_summary_rebuild, summary_by
from disbursements.tests.test_exports import release
from disbursements.tests.test_returns import answer, csv_file, do_import, roster
from funding.models import Award, AwardStatus
from funding.services.awards import emergency_approve, emergency_propose
from schools.permissions import Role
from students.models import Student
from tests.factories import user_with_role

FIELDS = ("students", "approved", "paid", "failed", "recovered", "awards", "paid_lines", "failed_lines",
          "recoveries_done")  # fmt: skip


def _summary(semester) -> dict[tuple, tuple]:
    return {
        (r["program_id"], r["school_id"]): tuple(r[f] for f in FIELDS)
        for r in MoneySummary.objects.filter(semester=semester).values("program_id", "school_id", *FIELDS)
    }


def _live(semester, district) -> dict[tuple, tuple]:
    """The same figures computed now from the awards, lines and recoveries: `money_by` for the money,
    plain counts for the lines and recoveries."""
    lines = {
        (r["program_id"], r["school_id"]): (r["p"], r["f"])
        for r in PaymentLine.objects.filter(semester=semester)
        .values("program_id", "school_id")
        .annotate(p=Count("pk", filter=Q(status=LineStatus.PAID)), f=Count("pk", filter=Q(status=LineStatus.FAILED)))
    }
    done = {
        (r["line__program_id"], r["line__school_id"]): r["n"]
        for r in Recovery.objects.filter(line__semester=semester, status=RecoveryStatus.RECOVERED)
        .values("line__program_id", "line__school_id")
        .annotate(n=Count("pk"))
    }
    awards = {
        (r["program_id"], r["school_id"]): r["n"]
        for r in Award.objects.filter(semester=semester, status__in=[AwardStatus.APPROVED, AwardStatus.STOPPED])
        .values("program_id", "school_id")
        .annotate(n=Count("pk"))
    }
    out = {}
    for g in money_by(user=district, semester=semester, by=("program_id", "school_id")):
        key = tuple(uuid.UUID(str(v)) for v in g.key)  # raw SQL answers 32 hex digits on SQLite
        out[key] = (
            g.student_count, g.approved, g.paid, g.failed, g.recovered, awards[key],
            *lines.get(key, (0, 0)), done.get(key, 0),
        )  # fmt: skip
    return out


def _agrees(semester, district) -> dict[tuple, tuple]:
    summary = _summary(semester)
    assert summary == _live(semester, district)
    return summary


def _total(summary: dict, field: str):
    return sum((v[FIELDS.index(field)] for v in summary.values()), Decimal("0.00") if field != "awards" else 0)


def test_the_summary_moves_with_every_money_service_and_equals_the_ledger_to_the_fen(world, tenant_of):
    w = world.a
    district, officer = w.users[Role.DISTRICT_STAFF], w.users[Role.SCHOOL_OFFICER]
    with tenant_of(w.tenant):
        # Lists approved (funding's signal): s1 six pupils at 250.00, s2 two at 312.50; a batch released.
        released = release(w)
        semester = released.semester
        s = _agrees(semester, district)
        assert (_total(s, "approved"), _total(s, "paid"), _total(s, "awards")) == (Decimal("2125.00"), 0, 8)

        # The bank's return: one line of s1 failed, the others paid.
        lines = roster(released.batch, district)
        s1_refs = [x for x in lines if PaymentLine.objects.get(pk=x["业务编号"]).school_id == w.schools["s1"].pk]
        failed_ref = s1_refs[0]["业务编号"]
        rows = [answer(x, "失败", "E01", "卡未激活") if x["业务编号"] == failed_ref else answer(x) for x in lines]
        do_import(released, csv_file(rows))
        s = _agrees(semester, district)
        assert (_total(s, "paid"), _total(s, "failed")) == (Decimal("1875.00"), Decimal("250.00"))
        assert (_total(s, "paid_lines"), _total(s, "failed_lines")) == (7, 1)

        # The card fixed, the reissue batch pays it: the failure no longer counts (a later line paid it).
        failed = PaymentLine.objects.get(pk=failed_ref)
        student = Student.objects.get(pk=failed.student_id)
        student.card_account = "6228480000000000018"
        student.save(update_fields=["card_account", "card_account_hash", "updated_at"])
        reissue = batches.batch_build(actor=district, semester=semester, kind=BatchKind.REISSUE).batch
        batches.batch_confirm_school(actor=officer, batch=reissue, school=w.schools["s1"])
        reissue = batches.batch_release(actor=district, batch=reissue)
        do_import(
            type(released)(batch=reissue, semester=semester, district=district),
            csv_file([answer(x) for x in roster(reissue, district)]),
            name="reissue.csv",
        )
        s = _agrees(semester, district)
        assert (_total(s, "paid"), _total(s, "failed"), _total(s, "failed_lines")) == (
            Decimal("2125.00"), Decimal("0.00"), 1,
        )  # fmt: skip

        # An emergency grant proposed (no money yet), then approved (funding's signal).
        pupil = w.students["c1"][0]
        grant = emergency_propose(
            actor=officer, student=pupil, semester=semester, amount=Decimal("500.00"), reason="火灾"
        )
        assert _total(_agrees(semester, district), "approved") == Decimal("2125.00")
        emergency_approve(actor=district, award=grant)
        s = _agrees(semester, district)
        assert (_total(s, "approved"), _total(s, "awards")) == (Decimal("2625.00"), 9)

        # Stopped before it is paid (停发), four eyes; then the stop reversed.
        stop = correction_propose(actor=officer, award=grant, reason="重复申请")
        assert stop.kind == CorrectionKind.STOP
        correction_decide(actor=district, correction=stop, approve=True)
        assert _total(_agrees(semester, district), "approved") == Decimal("2125.00")
        reverse = correction_reverse_propose(actor=officer, correction=stop, reason="核实无误")
        correction_decide(actor=district, correction=reverse, approve=True)
        assert _total(_agrees(semester, district), "approved") == Decimal("2625.00")

        # A paid award recovered (追回): stopped, a recovery case opened, money comes back in two parts.
        paid_award = Award.objects.get(pk=PaymentLine.objects.get(pk=s1_refs[1]["业务编号"]).award_id)
        recover = correction_propose(actor=officer, award=paid_award, reason="家庭经济好转")
        assert recover.kind == CorrectionKind.RECOVER
        correction_decide(actor=district, correction=recover, approve=True)
        s = _agrees(semester, district)
        assert (_total(s, "approved"), _total(s, "paid"), _total(s, "recovered")) == (
            Decimal("2375.00"), Decimal("2125.00"), Decimal("0.00"),
        )  # fmt: skip
        recovery = Recovery.objects.get(correction=recover)
        recovery_record(actor=officer, recovery=recovery, amount=Decimal("100.25"))
        s = _agrees(semester, district)
        assert (_total(s, "recovered"), _total(s, "recoveries_done")) == (Decimal("100.25"), 0)
        recovery_record(actor=officer, recovery=recovery, amount=Decimal("149.75"))
        s = _agrees(semester, district)
        assert (_total(s, "recovered"), _total(s, "recoveries_done")) == (Decimal("250.00"), 1)

        # The safety net rebuilds exactly the rows the services kept (ids aside).
        money_summary_rebuild()
        assert _summary(semester) == s
        call_command("money_summary_rebuild", tenant=w.tenant.slug, stdout=None)
        assert _summary(semester) == s


def test_written_behind_the_services_the_summary_waits_for_the_rebuild(world, tenant_of):
    """The limit, shown: a line changed with a bare UPDATE is not summed until the rebuild."""
    w = world.a
    district = w.users[Role.DISTRICT_STAFF]
    with tenant_of(w.tenant):
        released = release(w)
        before = _summary(released.semester)
        PaymentLine.objects.filter(batch=released.batch).update(status=LineStatus.PAID)
        assert _summary(released.semester) == before != _live(released.semester, district)
        money_summary_rebuild()
        _agrees(released.semester, district)


def test_a_school_reads_its_own_schools_rows_only(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant):
        released = release(w)
        district = summary_by(user=w.users[Role.DISTRICT_STAFF], semester=released.semester, by=("school_id",))
        s1 = summary_by(user=w.users[Role.SCHOOL_OFFICER], semester=released.semester, by=("school_id",))
        officer2 = user_with_role(w.tenant, Role.SCHOOL_OFFICER, w.schools["s2"])
        s2 = summary_by(user=officer2, semester=released.semester, by=("school_id",))
        teacher = summary_by(user=w.users[Role.CLASS_TEACHER], semester=released.semester, by=("school_id",))
    assert {g.key for g in district} == {(w.schools["s1"].pk,), (w.schools["s2"].pk,)}
    assert [(g.key, g.approved) for g in s1] == [((w.schools["s1"].pk,), Decimal("1500.00"))]
    assert [(g.key, g.approved) for g in s2] == [((w.schools["s2"].pk,), Decimal("625.00"))]
    assert teacher == []
    # Ungrouped: one total of every group the user sees.
    with tenant_of(w.tenant):
        total = summary_by(user=w.users[Role.DISTRICT_STAFF], semester=released.semester)
    assert [(g.key, g.approved, g.student_count) for g in total] == [((), Decimal("2125.00"), 8)]
    # Tenant B's district sees none of A's rows.
    with tenant_of(world.b.tenant):
        assert summary_by(user=world.b.users[Role.DISTRICT_STAFF], semester=released.semester) == []


def test_after_the_demo_world_every_summary_row_equals_money_by(db):
    """The demo's semester (lists approved, a batch paid with failures, a reissue batch, an emergency
    grant, a recovery and a stop proposed), made through the services: every group agrees."""
    from core.tenancy.context import tenant_transaction
    from funding.models import Semester
    from schools.models import Tenant, User

    call_command("seed_demo", scale=0.4, stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="demo-a")
    with tenant_transaction(tenant.pk):
        district = User.objects.get(username="a.district")
        semesters = list(Semester.objects.all())
        checked = [_agrees(semester, district) for semester in semesters]
    moving = [s for s in checked if s]
    assert moving, "the demo has money"
    assert any(_total(s, "paid") > 0 and _total(s, "failed_lines") > 0 for s in moving)
