"""市/省: a region's oversight account reads the aggregates of its own districts (per district, program and
semester, equal to each district's money summary to the fen), never another region's district, never a
pupil; every view is recorded in the trail of each district it showed; the table behind it admits no
district's transaction, and the region's requests see no tenant row."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.test import Client

from audits.models import AuditEvent
from core.tenancy.context import tenant_transaction
from disbursements.models import MoneySummary
from disbursements.summary import summary_by
from oversight.region.models import DistrictFigure
from oversight.region.selectors import previous_code, region_board, semester_label
from oversight.region.services import REGION_VIEW_ACTION, district_figures_rebuild
from schools import permissions
from schools import services as school_services
from schools.models import RegionLevel, User
from schools.permissions import Action, Role
from students.models import Student
from tests.factories import PASSWORD

MEASURES = ("approved", "paid", "failed", "recovered")
#: The money summary's counts, in the order of the region's counts chart.
SUMMARY_COUNTS = ("students", "awards", "paid_lines", "failed_lines", "recoveries_done")


@pytest.fixture
def regions(world):
    """City 甲市 holds district A, city 乙市 district B; each city has an oversight account."""
    city_a = school_services.region_create(code="410600", name="甲市")
    city_b = school_services.region_create(code="511700", name="乙市")
    school_services.tenant_region_set(tenant=world.a.tenant, region=city_a)
    school_services.tenant_region_set(tenant=world.b.tenant, region=city_b)
    account_a = school_services.region_account_create(
        region=city_a, username="city-a", password=PASSWORD, validate=False
    )
    account_b = school_services.region_account_create(
        region=city_b, username="city-b", password=PASSWORD, validate=False
    )
    return {"a": (city_a, account_a), "b": (city_b, account_b)}


def _account(region, username: str) -> User:
    return school_services.region_account_create(region=region, username=username, password=PASSWORD, validate=False)


def _client(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def _district_programs(board) -> dict[str, dict[str, Decimal]]:
    """{"district · program": {measure: amount}} from the region's district × program chart."""
    chart = board.chart("region_district_programs")
    return {row[0]: dict(zip(MEASURES, (Decimal(v) for v in row[1:]), strict=True)) for row in chart.rows}


def test_region_figures_equal_each_districts_money_summary_to_the_fen(world, tenant_of, money_semester, regions):
    """Both districts in one city: each district × program figure is the district's own money summary
    (as its dashboard and ledger read it) to the fen, for the world's semester and the fixture's."""
    city_a, account = regions["a"]
    school_services.tenant_region_set(tenant=world.b.tenant, region=city_a)
    district_figures_rebuild()
    checked = 0
    for code in (world.a.semester.code, money_semester.code):
        board = region_board(user=account, semester_code=code)
        figures = _district_programs(board)
        expected: dict[str, dict[str, Decimal]] = {}
        for w in (world.a, world.b):
            with tenant_of(w.tenant):
                semester = type(w.semester).objects.filter(academic_year=int(code[:4]), term=code[5:]).first()
                if semester is None:
                    continue
                for g in summary_by(user=w.users[Role.DISTRICT_STAFF], semester=semester, by=("program__name",)):
                    expected[f"{w.tenant.name} · {g.key[0]}"] = {m: getattr(g, m) for m in MEASURES}
        assert figures == expected, code
        checked += len(expected)
        # The counts per district are the summary's counts, summed over its schools and programs.
        counted = {}
        for w in (world.a, world.b):
            with tenant_of(w.tenant):
                sums = MoneySummary.objects.filter(semester__academic_year=int(code[:4]), semester__term=code[5:])
                sums = sums.aggregate(
                    *(Sum(c) for c in ("students", "awards", "paid_lines", "failed_lines", "recoveries_done"))
                )
                if sums["awards__sum"]:
                    counted[w.tenant.name] = list(sums.values())
        assert {row[0]: row[1:] for row in board.chart("region_counts").rows} == counted, code
    assert checked >= 3  # A and B in the world's semester, A in the fixture's
    # The fixture's amounts, with fen, so that equal-but-empty could not pass.
    spring = _district_programs(region_board(user=account, semester_code=money_semester.code))
    assert list(spring.values()) == [
        {"approved": Decimal("500.00"), "paid": Decimal("250.00"), "failed": Decimal("250.00"),
         "recovered": Decimal("100.25")}
    ]  # fmt: skip


def test_a_region_sees_only_its_own_districts(world, money_semester, regions):
    district_figures_rebuild()
    (_city_a, account_a), (_city_b, account_b) = regions["a"], regions["b"]
    code = world.a.semester.code
    for account, own, other in ((account_a, world.a, world.b), (account_b, world.b, world.a)):
        board = region_board(user=account, semester_code=code)
        labels = [row[0] for chart in board.charts for row in chart.rows]
        assert labels
        assert all(other.tenant.name not in label for label in labels)
        assert any(own.tenant.name in label for label in labels)
        client = _client(account)
        for body in (
            client.get("/oversight/region/", {"semester": code}).content.decode(),
            client.get("/api/v1/oversight/region/", {"semester": code}).content.decode(),
        ):
            assert own.tenant.name in body
            assert other.tenant.name not in body
        # A semester only the other region's district has: not one of this region's (404, like a typo).
        if account is account_b:
            assert client.get("/oversight/region/", {"semester": money_semester.code}).status_code == 404


def test_a_province_reads_the_districts_of_its_cities(world, regions):
    province = school_services.region_create(code="410000", name="甲省", level=RegionLevel.PROVINCE)
    city_a, _account = regions["a"]
    city_a.parent = province
    city_a.save(update_fields=["parent"])
    school_services.tenant_region_set(tenant=world.b.tenant, region=province)
    account = school_services.region_account_create(region=province, username="prov", password=PASSWORD, validate=False)
    district_figures_rebuild()
    labels = {
        row[0] for row in region_board(user=account, semester_code=world.a.semester.code).chart("region_districts").rows
    }
    assert labels == {world.a.tenant.name, world.b.tenant.name}


def test_the_page_and_its_xlsx_hold_the_same_figures_and_no_pupil(world, regions):
    district_figures_rebuild()
    _city, account = regions["a"]
    client = _client(account)
    response = client.get("/oversight/region/")
    assert response.status_code == 200
    board = response.context["board"]
    assert board.semester == semester_label(world.a.semester.code)
    body = response.content.decode()
    assert 'id="oversight-data"' in body
    assert "echarts.min.js" in body
    pupils = [s for s in world.a.all_students]
    assert not [p for p in pupils if p.name in body or str(p.pk) in body or p.id_number.masked in body]

    download = client.get("/oversight/region/", {"semester": world.a.semester.code, "format": "xlsx"})
    assert download.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    sheet = book.worksheets[2]  # district × program
    chart = board.chart("region_district_programs")
    rows = [list(r) for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert rows == [[row[0], *(Decimal(v) for v in row[1:])] for row in chart.rows]
    assert rows
    assert rows[0][1] == Decimal("250.00")


def test_every_view_is_recorded_in_each_district_it_showed(world, tenant_of, regions):
    city_a, account = regions["a"]
    school_services.tenant_region_set(tenant=world.b.tenant, region=city_a)
    district_figures_rebuild()
    client = _client(account)
    assert client.get("/oversight/region/").status_code == 200
    assert client.get("/oversight/region/", {"format": "xlsx"}).status_code == 200
    assert client.get("/api/v1/oversight/region/").status_code == 200
    for w in (world.a, world.b):
        with tenant_of(w.tenant):
            events = AuditEvent.objects.filter(action=REGION_VIEW_ACTION).order_by("seq")
            assert [(e.actor_id, e.after["form"], e.after["region"]) for e in events] == [
                (account.pk, "page", "甲市"), (account.pk, "xlsx", "甲市"), (account.pk, "api", "甲市"),
            ]  # fmt: skip


def test_the_region_account_may_only_read_its_region(world, tenant_of, regions):
    _city, account = regions["a"]
    assert permissions.is_region_account(account)
    with tenant_of(world.a.tenant):
        for action in Action:
            assert permissions.can(account, action) is (action == Action.REGION_VIEW), action
            assert permissions.can(account, action, world.a.award) is False, action
        # No tenant role holds the region's action, in its own district or not.
        for role in Role:
            assert permissions.can(world.a.users[role], Action.REGION_VIEW) is False, role
    operator = school_services.user_create(tenant=None, username="operator", password="x", validate=False)
    assert permissions.can(operator, Action.REGION_VIEW) is False
    # Its menu is the region's entry alone; its home page is the region's page.
    page = _client(account).get("/oversight/region/")
    assert [e.key for g in page.context["menu"] for e in g.entries] == ["oversight-region"]
    response = _client(account).get("/")
    assert response.status_code == 302
    assert response.url == "/oversight/region/"
    assert _client(world.a.users[Role.DISTRICT_STAFF]).get("/oversight/region/").status_code == 403
    assert _client(world.a.users[Role.DISTRICT_STAFF]).get("/api/v1/oversight/region/").status_code == 403


def test_an_account_is_of_one_kind_only(world, regions):
    city, _account = regions["a"]
    for extra in ({"tenant": world.a.tenant}, {"is_platform_operator": True}, {"is_superuser": True}):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username=f"two-kinds-{len(extra)}{next(iter(extra))}", region=city, **extra)


def test_the_rebuild_is_the_platforms_and_replaces_its_rows(world, tenant_of, regions):
    with tenant_of(world.a.tenant), pytest.raises(PermissionDenied):
        district_figures_rebuild()
    first = district_figures_rebuild()
    assert first.districts == 2
    assert first.rows == 2
    assert first.semesters == [world.a.semester.code]
    again = district_figures_rebuild(tenant_ids=[world.a.tenant.pk])
    assert again.rows == 1
    with tenant_transaction(None):
        assert DistrictFigure.objects.count() == 2  # replaced, not added


def test_previous_semester_codes():
    assert previous_code("2026-AUTUMN") == "2025-SPRING"
    assert previous_code("2026-SPRING") == "2026-AUTUMN"


@pytest.mark.postgres
def test_the_region_table_admits_no_district_and_the_region_sees_no_tenant_row(world, tenant_of, regions):
    """Row-level security, below the application: the aggregate table is empty to a district's
    transaction, and a transaction naming no tenant (a region account's) sees no pupil, raw SQL included."""
    district_figures_rebuild()
    table = DistrictFigure._meta.db_table
    with tenant_of(world.a.tenant), connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        assert cursor.fetchone()[0] == 0
        cursor.execute(f"SELECT COUNT(*) FROM {Student._meta.db_table}")  # noqa: S608
        assert cursor.fetchone()[0] == len(world.a.all_students)  # the district sees its own pupils
    with tenant_transaction(None), connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        assert cursor.fetchone()[0] == 2
        cursor.execute(f"SELECT COUNT(*) FROM {Student._meta.db_table}")  # noqa: S608
        assert cursor.fetchone()[0] == 0


def test_the_operators_command_makes_a_city_places_districts_and_gives_it_an_account(world):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("create_region", "410600", "甲市", district=[world.a.tenant.slug], account="jia", stdout=out)
    account = User.objects.get(username="jia")
    assert account.region.name == "甲市"
    assert account.must_change_password
    assert "甲市" in out.getvalue()
    assert "jia / " in out.getvalue()  # the generated password, shown once
    district_figures_rebuild()
    labels = {
        row[0] for row in region_board(user=account, semester_code=world.a.semester.code).chart("region_districts").rows
    }
    assert labels == {world.a.tenant.name}
    # Again, with the other district: the city is reused, both districts are its.
    call_command("create_region", "410600", "甲市", district=[world.b.tenant.slug], stdout=io.StringIO())
    labels = {
        row[0] for row in region_board(user=account, semester_code=world.a.semester.code).chart("region_districts").rows
    }
    assert labels == {world.a.tenant.name, world.b.tenant.name}


def test_a_region_account_is_asked_a_second_factor_like_the_operator(regions, settings):
    from schools.door.services import second_factor_needed

    _city, account = regions["a"]
    settings.TWO_FACTOR_ENFORCED = True
    settings.TWO_FACTOR_OFF_FOR_OPERATORS = []
    assert second_factor_needed(account)
    settings.TWO_FACTOR_OFF_FOR_OPERATORS = [account.username]  # what DEBUG sets for the demo's `region`
    assert not second_factor_needed(account)


def test_a_region_without_figures_says_so(world):
    empty = school_services.region_create(code="420100", name="丙市")
    account = _account(empty, "empty-city")
    client = _client(account)
    response = client.get("/oversight/region/")
    assert response.status_code == 200
    assert response.context["board"] is None
    api = client.get("/api/v1/oversight/region/").json()
    assert api["charts"] == []
    assert api["districts"] == []
    assert client.get("/oversight/region/", {"semester": world.a.semester.code}).status_code == 404
