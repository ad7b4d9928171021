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


def _by_money_by(user, semester):
    """The ledger as it was computed before `ledger_groups`: a `money_by` per table and one for the
    total (each with its own distinct count of pupils). The reference the one statement must equal."""
    from django.db.models import Sum

    from disbursements.ledger import CategoryRow, LedgerRow, _categories, money_by
    from funding.models import Award, Budget
    from schools.permissions import Action
    from students.models import HardshipCategory

    tiers = dict(Award._meta.get_field("tier").choices)
    names = dict(HardshipCategory.objects.values_list("code", "name"))
    rows = {}
    paths = ("school__code", "program__sort_order", "school__name", "program__name", "tier", "student__village")
    for g in money_by(user=user, semester=semester, by=paths):
        code, order, school, program, tier, village = g.key
        key = (code, order, school, program, str(tiers.get(tier, "—")) if tier else "—", village or "—")
        rows.setdefault(key, LedgerRow(school=school, program=program, tier=key[4], village=key[5])).add(g)
    cats = {}
    for g in money_by(
        user=user, semester=semester, by=("program__sort_order", "program__name", "application__categories")
    ):
        order, program, raw = g.key
        for category in _categories(raw, names):
            cats.setdefault((order, program, category), CategoryRow(program=program, category=category)).add(g)
    total = money_by(user=user, semester=semester)
    planned = (
        Budget.objects.visible_to(user, Action.FUNDING_VIEW)
        .filter(semester=semester)
        .aggregate(p=Sum("planned_amount") + Sum("adjustment"))["p"]
    )
    return [rows[k] for k in sorted(rows)], [cats[k] for k in sorted(cats)], total, planned


def test_the_ledger_equals_money_by_per_table_to_the_fen_for_each_role(db):
    """The demo's semesters (several programs and tiers, villages, pupils with several categories and
    with awards of two programs, failures, a reissue, a recovery): the one statement's ledger equals
    `money_by`'s three groupings, row by row, for the district and for a school's officer."""
    from django.core.management import call_command

    from core.tenancy.context import tenant_transaction
    from funding.models import Semester
    from schools.models import Tenant, User

    call_command("seed_demo", scale=0.4, stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="demo-a")
    compared, overlap = 0, False
    with tenant_transaction(tenant.pk):
        # A pupil of the officer's school with awards of two programs: emergency aid beside a grant.
        from funding.models import Award, AwardStatus
        from funding.services.awards import emergency_approve, emergency_propose

        officer, district = User.objects.get(username="a.officer"), User.objects.get(username="a.district")
        funded = (
            Award.objects.visible_to(officer)
            .filter(status=AwardStatus.APPROVED, program__is_emergency=False)
            .exclude(student__awards__program__is_emergency=True)
            .select_related("student", "semester")
            .order_by("pk")
            .first()
        )
        grant = emergency_propose(
            actor=officer, student=funded.student, semester=funded.semester, amount=Decimal("300.00"), reason="火灾"
        )
        emergency_approve(actor=district, award=grant)
        for username in ("a.district", "a.officer"):
            user = User.objects.get(username=username)
            for semester in Semester.objects.all():
                ledger = semester_ledger(user=user, semester=semester)
                rows, categories, total, planned = _by_money_by(user, semester)
                assert ledger.rows == rows
                assert ledger.by_category == categories
                if total:
                    (t,) = total
                    assert (ledger.students, ledger.approved, ledger.paid, ledger.failed, ledger.recovered) == (
                        t.student_count, t.approved, t.paid, t.failed, t.recovered,
                    )  # fmt: skip
                else:
                    assert (ledger.students, ledger.approved, ledger.rows) == (0, Decimal("0.00"), [])
                assert ledger.planned == (planned or Decimal("0.00"))
                compared += bool(rows)
                if username == "a.district" and rows:
                    # Pupils with awards of two programs: the distinct total is less than the rows' sum.
                    overlap |= ledger.students < sum(r.student_count for r in rows)
    assert compared >= 2, "the demo has money for the district and for the school"
    assert overlap, "the demo has pupils with awards of two programs"
