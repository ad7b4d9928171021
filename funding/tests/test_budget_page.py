"""The budget page: the district computes, sees and adjusts a program's budgets by school and decides
on approving without a budget; a school sees its own row only; another tenant's rows are not found;
bad input is a message, never a 500."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from core.audit.models import AuditEvent
from core.tenancy.context import tenant_transaction
from funding.models import AwardListStatus, Budget, BudgetWaiver, Program
from funding.services import awards, budgets
from schools.permissions import Role
from tests.factories import PASSWORD, make_semester
from tests.money import identify


@pytest.fixture
def setup(world, tenant_of):
    """A spring semester with s1's two c2 pupils identified and the living subsidy's budgets computed."""
    with tenant_of(world.a.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in world.a.students["c2"]:
            identify(world.a, pupil)
        program = Program.objects.get(code="LIVING_SUBSIDY")
        return semester, program


#: The budget page's queries: session, user, roles, semester, programs, budgets, waiver, the layout's.
QUERIES = 20


def _client(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def _page(client, semester, program):
    return client.get("/funding/budgets/", {"semester": semester.pk, "program": program.pk})


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_the_district_computes_the_budgets_and_sees_quota_approved_and_left(world, setup):
    semester, program = setup
    district = _client(world.a.users[Role.DISTRICT_STAFF])
    before = _page(district, semester, program)
    assert before.status_code == 200
    assert list(before.context["rows"]) == []
    response = district.post(
        "/funding/budgets/compute/",
        {"semester": semester.pk, "program": program.pk, "rural_reserve": "10"},
        follow=True,
    )
    assert response.status_code == 200
    rows = {r.school.code: r for r in response.context["rows"]}
    s1 = rows[world.a.schools["s1"].code]
    assert (s1.quota, s1.approved, s1.left) == (Decimal("500.00"), Decimal("0.00"), Decimal("500.00"))
    assert world.a.schools["s2"].code in rows  # every active school gets its row
    assert 'data-testid="budget-row"' in response.content.decode()
    with tenant_transaction(world.a.tenant.pk):
        assert AuditEvent.objects.filter(action="budget.compute", reason="rural reserve 10%").exists()


def test_a_cut_below_what_is_approved_is_refused_with_the_amounts(world, tenant_of, setup):
    semester, program = setup
    district_user = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        budgets.budgets_compute(actor=district_user, program=program, semester=semester)
        officer = world.a.users[Role.SCHOOL_OFFICER]
        al = awards.award_list_build(actor=officer, program=program, semester=semester, school=world.a.schools["s1"])
        al = awards.award_list_publish(actor=officer, award_list=al, starts_on=dt.date(2026, 9, 14))
        awards.award_list_approve(actor=district_user, award_list=al, today=dt.date(2026, 10, 1))
        budget = Budget.objects.get(program=program, semester=semester, school=world.a.schools["s1"])
    district = _client(district_user)
    response = district.post(
        f"/funding/budgets/{budget.pk}/adjust/", {"adjustment": "-100", "note": "调剂"}, follow=True
    )
    assert response.status_code == 200
    assert "500.00" in _messages(response)  # what is approved
    row = next(r for r in response.context["rows"] if r.pk == budget.pk)
    assert (row.adjustment, row.approved, row.left) == (Decimal("0.00"), Decimal("500.00"), Decimal("0.00"))
    # No note, or not a number: a message, the budget unchanged.
    for bad in ({"adjustment": "50", "note": ""}, {"adjustment": "fifty", "note": "调剂"}):
        response = district.post(f"/funding/budgets/{budget.pk}/adjust/", bad, follow=True)
        assert response.status_code == 200
        assert _messages(response)
    response = district.post(f"/funding/budgets/{budget.pk}/adjust/", {"adjustment": "80", "note": "追加"}, follow=True)
    row = next(r for r in response.context["rows"] if r.pk == budget.pk)
    assert (row.quota, row.left, row.note) == (Decimal("580.00"), Decimal("80.00"), "追加")


def test_a_bad_reserve_is_a_message_and_computes_nothing(world, tenant_of, setup):
    semester, program = setup
    district = _client(world.a.users[Role.DISTRICT_STAFF])
    for reserve in ("150", "abc", "-1"):
        response = district.post(
            "/funding/budgets/compute/",
            {"semester": semester.pk, "program": program.pk, "rural_reserve": reserve},
            follow=True,
        )
        assert response.status_code == 200
        assert _messages(response)
    with tenant_of(world.a.tenant):
        assert not Budget.objects.filter(semester=semester).exists()


def test_the_school_sees_its_own_budget_only_and_cannot_compute_adjust_or_waive(world, tenant_of, setup):
    semester, program = setup
    with tenant_of(world.a.tenant):
        budgets.budgets_compute(actor=world.a.users[Role.DISTRICT_STAFF], program=program, semester=semester)
        theirs = Budget.objects.get(program=program, semester=semester, school=world.a.schools["s1"])
    officer = _client(world.a.users[Role.SCHOOL_OFFICER])
    page = _page(officer, semester, program)
    assert [r.school_id for r in page.context["rows"]] == [world.a.schools["s1"].pk]
    assert 'data-testid="budgets-compute"' not in page.content.decode()
    assert 'data-testid="budget-waiver-form"' not in page.content.decode()
    form = {"semester": semester.pk, "program": program.pk}
    assert officer.post("/funding/budgets/compute/", {**form, "rural_reserve": "5"}).status_code == 403
    assert officer.post(f"/funding/budgets/{theirs.pk}/adjust/", {"adjustment": "1", "note": "x"}).status_code == 403
    assert officer.post("/funding/budgets/without-budget/", {**form, "reason": "x"}).status_code == 403
    # A teacher has no funding view at all.
    assert _page(_client(world.a.users[Role.CLASS_TEACHER]), semester, program).status_code == 403


def test_another_tenants_budget_program_and_semester_are_not_found(world, tenant_of, setup):
    _semester, _program = setup
    with tenant_of(world.b.tenant):
        their_budget = Budget.objects.filter(semester=world.b.semester).first()
        their_program = Program.objects.get(code="LIVING_SUBSIDY")
    district = _client(world.a.users[Role.DISTRICT_STAFF])
    assert district.get("/funding/budgets/", {"semester": world.b.semester.pk}).status_code == 404
    assert district.get("/funding/budgets/", {"program": their_program.pk}).status_code == 404
    response = district.post(f"/funding/budgets/{their_budget.pk}/adjust/", {"adjustment": "1", "note": "x"})
    assert response.status_code == 404
    with tenant_of(world.b.tenant):
        their_budget.refresh_from_db()
        assert their_budget.adjustment == Decimal("0.00")


def test_approval_is_refused_without_a_budget_and_allowed_after_the_recorded_decision(world, tenant_of, setup):
    semester, program = setup
    with tenant_of(world.a.tenant):
        officer = world.a.users[Role.SCHOOL_OFFICER]
        al = awards.award_list_build(actor=officer, program=program, semester=semester, school=world.a.schools["s1"])
        al = awards.award_list_publish(actor=officer, award_list=al, starts_on=dt.date(2026, 9, 1))
    district = _client(world.a.users[Role.DISTRICT_STAFF])
    refused = district.post(f"/funding/awards/{al.pk}/approve/", follow=True)
    text = _messages(refused)
    assert world.a.schools["s1"].name in text
    assert "无预算审批" in text
    with tenant_of(world.a.tenant):
        al.refresh_from_db()
        assert al.status == AwardListStatus.PUBLICITY
    # The district records the decision on the budget page (a reason is required).
    form = {"semester": semester.pk, "program": program.pk}
    response = district.post("/funding/budgets/without-budget/", {**form, "reason": ""}, follow=True)
    assert _messages(response)
    response = district.post("/funding/budgets/without-budget/", {**form, "reason": "省级专项另行拨付"}, follow=True)
    assert response.context["waiver"].reason == "省级专项另行拨付"
    assert "省级专项另行拨付" in response.content.decode()
    district.post(f"/funding/awards/{al.pk}/approve/")
    with tenant_of(world.a.tenant):
        al.refresh_from_db()
        assert al.status == AwardListStatus.APPROVED
        waiver = BudgetWaiver.objects.get(program=program, semester=semester)
    response = district.post(f"/funding/budgets/without-budget/{waiver.pk}/withdraw/", {"reason": "预算已下达"})
    assert response.status_code == 302
    with tenant_of(world.a.tenant):
        assert not BudgetWaiver.objects.filter(pk=waiver.pk).exists()


def test_the_page_is_linked_from_the_award_lists_and_the_programs_admin(world, setup):
    _semester, program = setup
    district = _client(world.a.users[Role.DISTRICT_STAFF])
    assert "/funding/budgets/" in district.get("/funding/awards/").content.decode()
    admin_list = district.get("/admin/funding/program/").content.decode()
    assert f"/funding/budgets/?program={program.pk}" in admin_list


def test_the_page_reads_a_fixed_number_of_queries_whatever_the_schools(
    world, tenant_of, setup, django_assert_max_num_queries
):
    """One query for the budgets with their approved sums, not one per school."""
    semester, program = setup
    district_user = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        budgets.budgets_compute(actor=district_user, program=program, semester=semester)
    district = _client(district_user)
    _page(district, semester, program)  # warm: the session, the user
    with django_assert_max_num_queries(QUERIES) as captured:
        _page(district, semester, program)
    budget_reads = [q for q in captured.captured_queries if q["sql"].startswith('SELECT "funding_budget".')]
    assert len(budget_reads) == 1
