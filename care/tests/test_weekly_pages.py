"""Pages of the weekly return: the officer reviews and submits (a double click files one return, with a
message), another school's return is 404, the district's week, the home page's work, the monthly
statistics table as xlsx whose totals are the cases."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from care import services as case_services
from care.models import CaseStatus, DropoutCase, Placement, WeeklyReturn
from care.weekly import summary
from core import clock
from schools.permissions import Role
from students.models import EnrollmentStatus, Student

WEEK = dt.date(2026, 10, 12)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _school_url(w, key="s1", week=WEEK) -> str:
    return f"{reverse('care:weekly_school', kwargs={'school_pk': w.schools[key].pk})}?week={week.isoformat()}"


def test_the_officer_reviews_and_submits_once_a_double_click_files_one_return(world, tenant_of):
    w = world.a
    officer = _client(w.users[Role.SCHOOL_OFFICER])
    with clock.frozen_at(dt.date(2026, 10, 16)):
        page = officer.get(reverse("care:weekly"))
        assert page.status_code == 302  # the officer's one school
        assert page.url.startswith(reverse("care:weekly_school", kwargs={"school_pk": w.schools["s1"].pk}))
        page = officer.get(_school_url(w)).content.decode()
        assert 'data-testid="suspected">3<' in page
        assert 'data-testid="return-form"' in page
        post = {"week": WEEK.isoformat(), "notes": "", "seen_dropouts": 0, "seen_suspected": 3}
        first = officer.post(_school_url(w), post, follow=True).content.decode()
        second = officer.post(_school_url(w), post, follow=True).content.decode()
    assert "return-submitted" in first
    assert "return-form" not in first
    assert "未重复提交" in second  # the message of the second click
    with tenant_of(w.tenant):
        assert WeeklyReturn.objects.filter(school=w.schools["s1"], week_start=WEEK).count() == 1


def test_another_schools_return_is_404_for_the_officer(world, tenant_of):
    w = world.a
    officer = _client(w.users[Role.SCHOOL_OFFICER])
    post = {"week": WEEK.isoformat(), "notes": "", "seen_dropouts": 0, "seen_suspected": 1}
    with clock.frozen_at(dt.date(2026, 10, 16)):
        assert officer.get(_school_url(w, "s2")).status_code == 404
        assert officer.post(_school_url(w, "s2"), post).status_code == 404
        assert officer.get(_school_url(world.b, "s1")).status_code == 404
    with tenant_of(w.tenant):
        assert not WeeklyReturn.objects.filter(week_start=WEEK).exists()


@pytest.mark.parametrize("role", [Role.PRINCIPAL, Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR])
def test_readers_see_the_return_but_get_no_form(world, role):
    with clock.frozen_at(dt.date(2026, 10, 16)):
        page = _client(world.a.users[role]).get(_school_url(world.a))
    assert page.status_code == 200
    assert "return-form" not in page.content.decode()


def test_the_teacher_has_no_weekly_pages(world):
    teacher = _client(world.a.users[Role.CLASS_TEACHER])
    assert teacher.get(reverse("care:weekly")).status_code == 403
    assert teacher.get(_school_url(world.a)).status_code in (403, 404)


def test_the_district_sees_who_submitted_who_is_late_who_has_not(world, tenant_of):
    w = world.a
    with clock.frozen_at(dt.date(2026, 10, 19)):  # Monday: the week of 12 October is past its deadline
        _client(w.users[Role.SCHOOL_OFFICER]).post(
            _school_url(w), {"week": WEEK.isoformat(), "notes": "", "seen_dropouts": 0, "seen_suspected": 3}
        )
        page = _client(w.users[Role.DISTRICT_STAFF]).get(f"{reverse('care:weekly')}?week=2026-10-14")
    body = page.content.decode()
    assert 'data-testid="count-submitted">1<' in body
    assert 'data-testid="count-late">1<' in body
    assert 'data-testid="count-missing">1<' in body
    assert body.index(w.schools["s2"].name) < body.index(w.schools["s1"].name)  # the missing one first


def test_home_page_work_the_officer_sees_the_return_due_and_the_district_the_late_schools(world, tenant_of):
    from care.weekly.services import weekly_returns_remind

    w = world.a
    with clock.frozen_at(dt.date(2026, 10, 14)):
        home = _client(w.users[Role.SCHOOL_OFFICER]).get("/").content.decode()
    assert "本周控辍保学周报待填报" in home
    with clock.frozen_at(dt.date(2026, 10, 14)):
        officer = _client(w.users[Role.SCHOOL_OFFICER])
        officer.post(_school_url(w), {"week": WEEK.isoformat(), "notes": "", "seen_dropouts": 0, "seen_suspected": 3})
        assert "本周控辍保学周报待填报" not in officer.get("/").content.decode()  # filed: no longer waiting
    with tenant_of(w.tenant):
        WeeklyReturn.objects.filter(week_start=WEEK).delete()  # the week unfiled again, for the reminder below
    with tenant_of(w.tenant):
        assert weekly_returns_remind(actor=w.users[Role.DISTRICT_STAFF], today=dt.date(2026, 10, 19)) == 2
    with clock.frozen_at(dt.date(2026, 10, 19)):
        district = _client(w.users[Role.DISTRICT_STAFF]).get("/").content.decode()
        officer = _client(w.users[Role.SCHOOL_OFFICER]).get("/").content.decode()
    assert "逾期未报周报的学校" in district
    assert "控辍保学周报逾期未报" in officer
    assert "/care/weekly/?week=2026-10-12" in officer


def _october(w, tenant_of):
    """The world's four suspected dropouts (suspected on 19 October) go four ways in October: c1
    confirmed and still out, c2 placed in home-delivered teaching, c3 back at school, c4 still suspected."""
    district = w.users[Role.DISTRICT_STAFF]
    with tenant_of(w.tenant):
        DropoutCase.objects.filter(pk__in=[c.pk for c in w.cases.values()]).update(suspected_on=dt.date(2026, 10, 19))
    with tenant_of(w.tenant), clock.frozen_at(dt.date(2026, 10, 20)):
        for key in ("c1", "c2", "c3"):
            case_services.case_transition(actor=district, case=w.cases[key], name="confirm")
        case_services.case_transition(
            actor=district, case=w.cases["c2"], name="place", placement=Placement.HOME_TEACHING
        )
        case_services.case_transition(actor=district, case=w.cases["c3"], name="mark_returned")


def test_the_monthly_xlsx_opens_in_openpyxl_and_its_totals_are_the_cases(world, tenant_of):
    w = world.a
    _october(w, tenant_of)
    response = _client(w.users[Role.DISTRICT_STAFF]).get(
        reverse("care:weekly_summary"), {"period": "2026-10", "format": "xlsx"}
    )
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    by_school, by_township, by_stage = (list(ws.iter_rows(values_only=True)) for ws in book.worksheets)
    lead = 3  # township, school, stage
    total = dict(zip(summary.KEYS, by_school[-1][lead:], strict=True))
    with tenant_of(w.tenant):
        cases = DropoutCase.objects.all()
        attending = Student.objects.filter(enrollment_status=EnrollmentStatus.ATTENDING).count()
        expected = {
            "attending": attending,
            "transferred_out": 0,
            "suspended": 0,
            "dropped_out": 3,  # the three confirmations changed the register
            "resumed": 1,  # c3's return
            "suspected_new": cases.filter(suspected_on__month=10).count(),
            "confirmed_new": 3,
            "returned": cases.filter(status=CaseStatus.RETURNED).count(),
            "placed_transferred": 0,
            "placed_special": 0,
            "placed_home": cases.filter(status=CaseStatus.PLACED, placement=Placement.HOME_TEACHING).count(),
            "closed": 0,
            "still_out": cases.filter(status__in=[CaseStatus.CONFIRMED, CaseStatus.PERSUADING]).count(),
            "suspected_end": cases.filter(status=CaseStatus.SUSPECTED).count(),
        }
    assert total == expected
    assert (expected["suspected_new"], expected["returned"], expected["still_out"]) == (4, 1, 1)
    # Every sheet's total is the sum of its rows, and the three sheets agree.
    rows = by_school[3:-1]
    assert [sum(r[lead + i] for r in rows) for i in range(len(summary.KEYS))] == list(by_school[-1][lead:])
    assert by_township[-1][1:] == by_school[-1][lead:]
    assert by_stage[-1][1:] == by_school[-1][lead:]


def test_the_summary_of_september_does_not_count_octobers_cases_and_the_page_renders(world, tenant_of):
    w = world.a
    _october(w, tenant_of)
    with tenant_of(w.tenant):
        table = summary.dropout_summary(user=w.users[Role.DISTRICT_STAFF], period=summary.Period.parse("2026-09"))
        half = summary.dropout_summary(user=w.users[Role.DISTRICT_STAFF], period=summary.Period.parse("2026-H2"))
        officer = summary.dropout_summary(user=w.users[Role.SCHOOL_OFFICER], period=summary.Period.parse("2026-H2"))
    assert table.total.values["confirmed_new"] == 0
    assert half.total.values["confirmed_new"] == 3
    assert {r.school for r in officer.schools} == {w.schools["s1"].name}  # the officer's own school only
    page = _client(w.users[Role.DISTRICT_AUDITOR]).get(reverse("care:weekly_summary"), {"period": "2026-H2"})
    assert page.status_code == 200
