"""The ledger by hardship category: an award counts under each category its pupil has, and the
distinct total counts it once (issue 19, item 4: it used to be filed under the first category only)."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl

from disbursements.ledger import ledger_xlsx, semester_ledger
from schools.permissions import Role
from students.models import HardshipApplication
from tests.factories import make_semester
from tests.money import approved_list, identify


def test_an_award_counts_under_each_of_its_categories_and_once_in_the_distinct_total(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        both, only_dibao = w.students["c2"]
        for pupil, categories in ((both, ["DIBAO", "DISABLED_STUDENT"]), (only_dibao, ["DIBAO"])):
            app = identify(w, pupil)
            HardshipApplication.objects.filter(pk=app.pk).update(categories=categories)
        approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
        ledger = semester_ledger(user=w.users[Role.DISTRICT_STAFF], semester=semester)

    by_category = {r.category: r for r in ledger.by_category}
    assert set(by_category) == {"低保", "残疾学生"}
    assert by_category["低保"].student_count == 2
    assert by_category["残疾学生"].student_count == 1
    assert by_category["低保"].approved == ledger.approved == Decimal("500.00")  # two day pupils, 250 each
    assert by_category["残疾学生"].approved == Decimal("250.00")
    # The category rows add up to more than the money: the distinct total is the ledger's.
    assert sum((r.approved for r in ledger.by_category), Decimal(0)) == Decimal("750.00")
    assert ledger.approved == sum((r.approved for r in ledger.rows), Decimal(0))
    assert ledger.students == 2

    target = io.BytesIO()
    ledger_xlsx(ledger, target)
    book = openpyxl.load_workbook(io.BytesIO(target.getvalue()), read_only=True)
    sheet = list(book["按困难类别"].iter_rows(values_only=True))
    assert sheet[0][:3] == ("资助项目", "困难类别", "学生人数")
    distinct = next(row for row in sheet if row[0] == "不重复合计")
    assert distinct[2] == 2
    assert Decimal(str(distinct[3])) == Decimal("500")
