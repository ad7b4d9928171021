"""The dashboard's figures: every money figure is the ledger's to the fen (one selector for both), each
role sees its own unit's, the identified and batches charts are their maintained summaries (equal to the
live counts), and the page draws from a JSON data island with each chart's table and xlsx."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import openpyxl
import pytest
from django.test import Client

from disbursements.batch_summary import batch_rows_live
from disbursements.ledger import semester_ledger
from disbursements.models import BatchLineSummary
from oversight.selectors import dashboard
from schools.permissions import Action, Role
from students.identification.summary import identified_live
from students.models import IdentifiedSummary, Tier
from tests.factories import PASSWORD
from tests.money import identify

MEASURES = ("approved", "paid", "failed", "recovered")


def _client(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def _program_money(board) -> dict[str, dict[str, Decimal]]:
    chart = board.chart("money_by_program")
    assert chart.headers[1:] == ["预算", "批准金额", "已发放", "发放失败", "已追回"] or len(chart.headers) == 6
    return {row[0]: dict(zip(("budget", *MEASURES), (Decimal(v) for v in row[1:]), strict=True)) for row in chart.rows}


@pytest.mark.parametrize("role", [Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR, Role.SCHOOL_OFFICER, Role.PRINCIPAL])
def test_dashboard_money_equals_the_ledger_to_the_fen(world, tenant_of, money_semester, role):
    user = world.a.users[role]
    with tenant_of(world.a.tenant):
        board = dashboard(user=user, semester=money_semester)
        ledger = semester_ledger(user=user, semester=money_semester)
    programs = _program_money(board)
    per_program: dict[str, dict[str, Decimal]] = {}
    for row in ledger.rows:
        sums = per_program.setdefault(row.program, dict.fromkeys(MEASURES, Decimal("0.00")))
        for m in MEASURES:
            sums[m] += getattr(row, m)
    assert per_program, "the fixture's money is visible to the role"
    for program, sums in per_program.items():
        assert {m: programs[program][m] for m in MEASURES} == sums, program
    assert sum((p["budget"] for p in programs.values()), Decimal(0)) == ledger.planned
    totals = {row[0]: Decimal(row[1]) for row in board.chart("money_totals").rows}
    assert list(totals.values()) == [ledger.approved, ledger.paid, ledger.failed, ledger.recovered]
    # The fixture's figures, so that equal-but-empty could not pass: 250 + 250 approved, one paid,
    # one failed, 100.25 recovered.
    assert (ledger.approved, ledger.paid, ledger.failed, ledger.recovered) == (
        Decimal("500.00"), Decimal("250.00"), Decimal("250.00"), Decimal("100.25"),
    )  # fmt: skip


def test_a_school_sees_its_own_schools_figures_only(world, tenant_of, money_semester):
    with tenant_of(world.a.tenant):
        identify(world.a, world.a.students["c4"][0])  # a pupil of s2 (rural): the district's, not s1's
        district = dashboard(user=world.a.users[Role.DISTRICT_STAFF], semester=money_semester)
        school = dashboard(user=world.a.users[Role.SCHOOL_OFFICER], semester=money_semester)
    area = {r[0]: r[1] for r in district.chart("identified_area").rows}
    school_area = {r[0]: r[1] for r in school.chart("identified_area").rows}
    assert area.get("农村", area.get("Rural", 0)) > 0
    assert school_area.get("农村", school_area.get("Rural", 0)) == 0  # s1 is urban; s2 (rural) is not theirs
    # The reconciliation's lists are the district's: no counts for a school.
    assert all(r[1] == 0 for r in school.chart("findings").rows)


def test_the_previous_semester_stands_beside_the_chosen_one(world, tenant_of, money_semester):
    with tenant_of(world.a.tenant):
        board = dashboard(user=world.a.users[Role.DISTRICT_STAFF], semester=money_semester)
    assert board.previous == str(world.a.semester)  # the factory's autumn before this spring
    totals = board.chart("money_totals")
    assert totals.headers[1:] == [board.semester, board.previous]
    approved = dict(zip(totals.headers[1:], totals.rows[0][1:], strict=True))
    assert approved == {board.semester: "500.00", board.previous: "250.00"}


def test_the_dashboard_needs_a_fixed_number_of_queries(world, tenant_of, money_semester, django_assert_max_num_queries):
    user = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant), django_assert_max_num_queries(30):
        dashboard(user=user, semester=money_semester)


def test_the_page_carries_the_data_island_tables_and_xlsx(world, money_semester):
    client = _client(world.a.users[Role.DISTRICT_STAFF])
    page = client.get("/oversight/dashboard/", {"semester": str(money_semester.pk)})
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="oversight-data"' in body
    assert "<script>" not in body.replace('<script id="oversight-data"', "")
    assert "onclick" not in body
    assert 'style="' not in body.split("<main", 1)[1]
    data = json.loads(body.split('id="oversight-data" type="application/json">', 1)[1].split("</script>", 1)[0])
    keys = [c["key"] for c in data["charts"]]
    assert {"identified_tier", "money_by_program", "batches", "open_corrections", "dropout_cases", "findings"} <= set(
        keys
    )
    for key in keys:
        assert f'data-testid="table-{key}"' in body
    book = client.get("/oversight/dashboard/", {"semester": str(money_semester.pk), "format": "xlsx"})
    sheets = openpyxl.load_workbook(io.BytesIO(b"".join(book.streaming_content)), read_only=True)
    assert len(sheets.sheetnames) == len(keys)
    one = client.get(
        "/oversight/dashboard/", {"semester": str(money_semester.pk), "format": "xlsx", "chart": "money_totals"}
    )
    rows = list(openpyxl.load_workbook(io.BytesIO(b"".join(one.streaming_content))).worksheets[0].values)
    assert Decimal(str(rows[2][1])) == Decimal("500")  # a number in the sheet, to the fen
    assert client.get("/oversight/dashboard/", {"format": "xlsx", "chart": "nope"}).status_code == 404


def test_who_opens_the_dashboard(world):
    for role, status in (
        (Role.DISTRICT_STAFF, 200), (Role.DISTRICT_AUDITOR, 200), (Role.SCHOOL_OFFICER, 200),
        (Role.PRINCIPAL, 200), (Role.CLASS_TEACHER, 403), (Role.TENANT_ADMIN, 403),
    ):  # fmt: skip
        assert _client(world.a.users[role]).get("/oversight/dashboard/").status_code == status, role


def test_the_pairing_coverage_counts_the_pupils_who_need_a_teacher(world, tenant_of):
    """特别困难 this school year: the pupil needs a paired teacher; none yet. A school sees its own."""
    from core.clock import current_school_year
    from funding.models import Semester
    from students.models import Tier

    w = world.a
    with tenant_of(w.tenant):
        identify(w, w.students["c2"][0], tier=Tier.SPECIAL, year=current_school_year())
        identify(w, w.students["c4"][0], tier=Tier.SPECIAL, year=current_school_year())  # s2's
        semester = Semester.objects.order_by("pk").first()
        district = dashboard(user=w.users[Role.DISTRICT_STAFF], semester=semester)
        school = dashboard(user=w.users[Role.SCHOOL_OFFICER], semester=semester)
    assert [row[1] for row in district.chart("pairing_coverage").rows] == [2, 0, 2]
    assert [row[1] for row in school.chart("pairing_coverage").rows] == [1, 0, 1]


def test_the_identified_and_batches_charts_are_the_maintained_summaries_equal_to_the_live_counts(
    world, tenant_of, money_semester
):
    """The charts read the summaries (a row changed in a summary alone shows on the page), and after the
    services the summaries equal the live GROUP BYs the page used to run (issue 17)."""
    district = world.a.users[Role.DISTRICT_STAFF]
    action = Action.DASHBOARD_VIEW
    with tenant_of(world.a.tenant):
        board = dashboard(user=district, semester=money_semester)
        live = identified_live(user=district, academic_year=money_semester.academic_year, action=action)
        tiers = {str(label): n for label, n in Tier.choices}
        assert {r[0]: r[1] for r in board.chart("identified_tier").rows} == {
            tiers[k]: n for k, n in live["tier"].items()
        }
        lines = batch_rows_live(user=district, semester=money_semester, action=action)
        assert (
            [r[1:4] for r in board.chart("batches").rows]
            == [[e["lines"], e["paid"], e["failed"]] for e in lines.values()]
            == [[2, 1, 1]]
        )
        IdentifiedSummary.objects.update(pupils=10)
        BatchLineSummary.objects.filter(semester=money_semester).update(lines=7)
        changed = dashboard(user=district, semester=money_semester)
        groups = IdentifiedSummary.objects.filter(academic_year=money_semester.academic_year).count()
    assert sum(r[1] for r in changed.chart("identified_tier").rows) == 10 * groups != sum(live["tier"].values())
    assert [r[1:4] for r in changed.chart("batches").rows] == [[14, 7, 7]]
