"""Budgets under /api/v1/: a program's budgets of a semester by school (quota, approved, left),
computing them, adjusting one, and the decision to approve without a budget; malformed input is a 400
with field errors, a service's refusal the one error format, another tenant's rows "not found"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core.audit.models import AuditEvent
from funding.models import Budget, BudgetWaiver, Program
from funding.services import awards, budgets
from schools.permissions import Role
from tests.factories import make_semester
from tests.money import identify


def _client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def spring(world, tenant_of):
    """Spring 2027 (code 2026-SPRING): s1's two c2 pupils identified, nothing computed yet."""
    with tenant_of(world.a.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in world.a.students["c2"]:
            identify(world.a, pupil)
        return semester


def test_the_district_computes_and_lists_a_programs_budgets_by_school(world, tenant_of, spring):
    client = _client(world.a.users[Role.DISTRICT_STAFF])
    query = {"semester": "2026-SPRING", "program": "LIVING_SUBSIDY"}
    assert client.get("/api/v1/budgets/", query).json()["results"] == []
    response = client.post("/api/v1/budgets/compute/", {**query, "rural_reserve": "0.10"}, format="json")
    assert response.status_code == 201, response.content
    by_school = {row["school"]: row for row in response.json()}
    s1 = by_school[str(world.a.schools["s1"].pk)]
    assert (s1["planned_students"], s1["quota"], s1["approved"], s1["left"]) == (2, "500.00", "0.00", "500.00")
    listed = client.get("/api/v1/budgets/", query).json()["results"]
    assert {row["id"] for row in listed} == {row["id"] for row in response.json()}


def test_an_adjustment_below_what_is_approved_is_a_400_with_the_message(world, tenant_of, spring):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        program = Program.objects.get(code="LIVING_SUBSIDY")
        budgets.budgets_compute(actor=district, program=program, semester=spring)
        officer = world.a.users[Role.SCHOOL_OFFICER]
        al = awards.award_list_build(actor=officer, program=program, semester=spring, school=world.a.schools["s1"])
        al = awards.award_list_publish(actor=officer, award_list=al, starts_on=dt.date(2026, 9, 14))
        awards.award_list_approve(actor=district, award_list=al, today=dt.date(2026, 10, 1))
        budget = Budget.objects.get(program=program, semester=spring, school=world.a.schools["s1"])
    client = _client(district)
    refused = client.post(f"/api/v1/budgets/{budget.pk}/adjust/", {"adjustment": "-1", "note": "调剂"}, format="json")
    assert refused.status_code == 400
    assert "500.00" in refused.json()["detail"][0]
    malformed = client.post(f"/api/v1/budgets/{budget.pk}/adjust/", {"adjustment": "lots"}, format="json")
    assert malformed.status_code == 400
    assert set(malformed.json()) == {"adjustment", "note"}
    done = client.post(f"/api/v1/budgets/{budget.pk}/adjust/", {"adjustment": "20", "note": "追加"}, format="json")
    assert done.status_code == 200, done.content
    assert (done.json()["quota"], done.json()["left"]) == ("520.00", "20.00")
    detail = client.get(f"/api/v1/budgets/{budget.pk}/").json()
    assert (detail["approved"], detail["note"]) == ("500.00", "追加")


def test_the_query_needs_a_semester_and_a_program_of_ones_own(world, tenant_of, spring):
    client = _client(world.a.users[Role.DISTRICT_STAFF])
    assert set(client.get("/api/v1/budgets/").json()) == {"semester", "program"}
    theirs = client.get("/api/v1/budgets/", {"semester": str(world.b.semester.pk), "program": "LIVING_SUBSIDY"})
    assert theirs.status_code == 400
    assert list(theirs.json()) == ["semester"]
    emergency = client.get("/api/v1/budgets/", {"semester": "2026-SPRING", "program": "EMERGENCY_AID"})
    assert emergency.status_code == 400
    with tenant_of(world.b.tenant):
        their_budget = Budget.objects.filter(semester=world.b.semester).first()
    assert client.get(f"/api/v1/budgets/{their_budget.pk}/").status_code == 404
    adjust = {"adjustment": "1", "note": "x"}
    response = client.post(f"/api/v1/budgets/{their_budget.pk}/adjust/", adjust, format="json")
    assert response.status_code == 404


def test_only_the_district_computes_and_waives(world, spring):
    officer = _client(world.a.users[Role.SCHOOL_OFFICER])
    body = {"semester": "2026-SPRING", "program": "LIVING_SUBSIDY", "reason": "x"}
    assert officer.post("/api/v1/budgets/compute/", body, format="json").status_code == 403
    assert officer.post("/api/v1/budget-waivers/", body, format="json").status_code == 403


def test_the_decision_to_approve_without_a_budget_is_recorded_and_withdrawn(world, tenant_of, spring):
    client = _client(world.a.users[Role.DISTRICT_STAFF])
    body = {"semester": "2026-SPRING", "program": "LIVING_SUBSIDY"}
    assert set(client.post("/api/v1/budget-waivers/", body, format="json").json()) == {"reason"}
    created = client.post("/api/v1/budget-waivers/", {**body, "reason": "省级专项"}, format="json")
    assert created.status_code == 201, created.content
    again = client.post("/api/v1/budget-waivers/", {**body, "reason": "省级专项"}, format="json")
    assert again.status_code == 400
    assert list(again.json()) == ["detail"]
    pk = created.json()["id"]
    listed = [w["id"] for w in client.get("/api/v1/budget-waivers/").json()["results"]]
    assert listed == [pk, str(world.a.budget_waiver.pk)]  # the newest first; tenant B's not at all
    assert client.post(f"/api/v1/budget-waivers/{pk}/withdraw/", {"reason": "已下达"}, format="json").status_code == 204
    with tenant_of(world.a.tenant):
        assert not BudgetWaiver.objects.filter(pk=pk).exists()
        assert AuditEvent.objects.filter(action="budget.waive_withdraw", object_id=pk, reason="已下达").exists()
        assert Decimal(0) == sum(b.adjustment for b in Budget.objects.filter(semester=spring))
