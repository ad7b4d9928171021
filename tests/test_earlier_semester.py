"""An earlier semester built end to end through the product's own paths, without touching the clock
(issue 19, "Done means"): a district that adopts the product in December 2026 records its spring-2025
semester: the semester opened explicitly, its identified list imported, the award list published on
the dates it was held, approved within a budget, the first batch paid, and the ledger exact to the fen.

Nothing here enters `clock.frozen_at` or passes a `today=`: the services run on the real date."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.test import Client

from core import clock
from core.audit.models import AuditEvent
from disbursements.ledger import semester_ledger
from disbursements.models import BatchKind, BatchStatus, LineStatus
from disbursements.services import batches
from disbursements.services.returns import bank_return_import
from funding.models import AwardListStatus, Program
from funding.services import awards, budgets, semesters
from schools.permissions import Role
from students.identification.migration.services import AUDIT_ACTION
from students.models import ApplicationStatus, HardshipApplication, Student, Tier
from students.tests.test_identification_migration import row_for, upload, write_list

D = Decimal
#: 2024—2025学年 spring term: two school years before the current one when this was written.
YEAR = 2024


def _return_csv(lines) -> io.BytesIO:
    rows = ["业务编号,账号,金额,状态,错误代码,失败原因"]
    rows += [f"{line.pk},{line.account.reveal()},{line.amount},成功,," for line in lines]
    return io.BytesIO("\n".join(rows).encode("gb18030"))


def test_an_earlier_semester_is_recorded_and_paid_without_moving_the_clock(
    world, tenant_of, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    assert clock.today() > dt.date(2025, 8, 31)  # the semester really is in the past
    w = world.a
    officer, district = w.users[Role.SCHOOL_OFFICER], w.users[Role.DISTRICT_STAFF]
    boarder, day_pupil = w.students["c2"]

    with tenant_of(w.tenant):
        Student.objects.filter(pk=boarder.pk).update(is_boarding=True)
        # The district opens the past semester (its deadline has passed) and reopens it, with a reason.
        semester = semesters.semester_create(
            actor=district, academic_year=YEAR, term="SPRING", starts_on=dt.date(2025, 3, 1),
            ends_on=dt.date(2025, 7, 10), deadline=dt.date(2025, 6, 30),
        )  # fmt: skip
        semesters.semester_reopen(
            actor=district, semester=semester, until=clock.today() + dt.timedelta(days=30), reason="补录2025年春季资助"
        )

    # The identified list of that school year comes in through the import page and its job.
    book = write_list(
        tmp_path / "认定名单.xlsx",
        [
            row_for(w, boarder, klass="c2", **{"认定档次": "特别困难", "困难类别": "低保", "申请日期": "2024-09-10",
                                               "班级评议日期": "2024-09-20", "学校审核日期": "2024-10-08",
                                               "认定日期": "2024-10-25"}),
            row_for(w, day_pupil, klass="c2", **{"认定档次": "困难", "困难类别": "", "申请日期": "2024-09-11",
                                                 "班级评议日期": "2024-09-20", "学校审核日期": "2024-10-08",
                                                 "认定日期": "2024-10-25"}),
        ],
    )  # fmt: skip
    client = Client()
    client.force_login(district)
    response = upload(client, book, YEAR, django_capture_on_commit_callbacks)
    assert response.status_code == 302

    with tenant_of(w.tenant):
        identified = HardshipApplication.objects.filter(academic_year=YEAR, status=ApplicationStatus.IDENTIFIED)
        assert {(a.student_id, a.tier, a.migrated) for a in identified} == {
            (boarder.pk, Tier.SPECIAL, True),
            (day_pupil.pk, Tier.DIFFICULT, True),
        }
        program = Program.objects.get(code="LIVING_SUBSIDY")
        budgets.budgets_compute(actor=district, program=program, semester=semester)

        # The award list, published on the days it was held in March 2025 (working days of 2025's
        # official calendar), approved after its period: today is long after it.
        al = awards.award_list_build(actor=officer, program=program, semester=semester, school=w.schools["s1"])
        assert al.awards.count() == 2
        al = awards.award_list_publish(actor=officer, award_list=al, starts_on=dt.date(2025, 3, 10))
        assert al.ends_on == dt.date(2025, 3, 14)
        al = awards.award_list_approve(actor=district, award_list=al)
        assert al.status == AwardListStatus.APPROVED
        approved = D("500.00") + D("250.00")  # primary boarder and day pupil (living subsidy standards)

        # The first batch: built, confirmed by the school, released, returned paid by the bank.
        first = batches.batch_build(actor=district, semester=semester, kind=BatchKind.FIRST).batch
        batches.batch_confirm_school(actor=officer, batch=first, school=w.schools["s1"])
        first = batches.batch_release(actor=district, batch=first)
        lines = list(first.lines.order_by("pk"))
        assert sum((line.amount for line in lines), D(0)) == approved
        result = bank_return_import(
            actor=district, batch=first, path_or_file=_return_csv(lines), file_name="2025春回盘.csv"
        )
        assert result.reconciliation.balanced
        first.refresh_from_db()
        assert first.status == BatchStatus.CLOSED
        assert set(first.lines.values_list("status", flat=True)) == {LineStatus.PAID}

        # The ledger of that semester, to the fen; the other semesters' money is not in it.
        ledger = semester_ledger(user=district, semester=semester)
        assert (ledger.approved, ledger.paid, ledger.failed, ledger.recovered) == (approved, approved, D(0), D(0))
        assert ledger.students == 2
        assert {(r.tier, r.approved) for r in ledger.rows} == {("特别困难", D("500.00")), ("困难", D("250.00"))}
        by_category = {r.category: r.approved for r in ledger.by_category}
        assert by_category == {"低保": D("500.00"), "—": D("250.00")}
        # The story is in the audit trail: the reopening with its reason, the import with the file.
        assert AuditEvent.objects.filter(action="semester.reopen", reason="补录2025年春季资助").exists()
        imported = AuditEvent.objects.get(action=AUDIT_ACTION)
        assert (imported.after["file"], imported.after["academic_year"], imported.actor_id) == (
            "认定名单.xlsx",
            YEAR,
            district.pk,
        )
