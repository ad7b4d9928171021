"""精准预算 in the product: the district computes a program's budgets by school (with the rural tilt),
and a list is approved only against a budget, or after the district's recorded decision to approve
this program's lists without one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.audit.models import AuditEvent
from funding.models import AwardListStatus, Budget, BudgetWaiver, Program
from funding.services import awards, budgets
from schools.permissions import Role
from tests.factories import make_semester, user_with_role
from tests.money import identify


@pytest.fixture
def semester(world, tenant_of):
    with tenant_of(world.a.tenant):
        return make_semester(academic_year=2026, term="SPRING")  # a clean slate: no budgets, no lists


def _published(w, semester, school_key="s1"):
    school = w.schools[school_key]
    officer = user_with_role(w.tenant, Role.SCHOOL_OFFICER, school) if school_key != "s1" else None
    officer = officer or w.users[Role.SCHOOL_OFFICER]
    program = Program.objects.get(code="LIVING_SUBSIDY")
    al = awards.award_list_build(actor=officer, program=program, semester=semester, school=w.schools[school_key])
    return awards.award_list_publish(actor=officer, award_list=al, starts_on=dt.date(2026, 9, 14))


def test_budgets_are_computed_per_school_with_the_rural_reserve_and_adjustments_kept(world, tenant_of, semester):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        for pupil in [*world.a.students["c2"], *world.a.students["c4"]]:  # s1 (urban) and s2 (rural)
            identify(world.a, pupil)
        program = Program.objects.get(code="LIVING_SUBSIDY")
        assert budgets.budgets_compute(actor=district, program=program, semester=semester) == 2
        rows = {b.school.code: b for b in Budget.objects.filter(program=program, semester=semester)}
        urban, rural = rows[world.a.schools["s1"].code], rows[world.a.schools["s2"].code]
        assert (urban.planned_students, urban.planned_amount) == (2, Decimal("500.00"))  # 2 × 250
        assert (rural.planned_students, rural.planned_amount) == (2, Decimal("656.25"))  # 2 × 312.50 + 5%
        budgets.budget_adjust(actor=district, budget=rural, adjustment=Decimal("100"), note="山区调剂")
        budgets.budgets_compute(actor=district, program=program, semester=semester, rural_reserve=Decimal("0.10"))
        rural.refresh_from_db()
        assert (rural.planned_amount, rural.adjustment, rural.quota) == (
            Decimal("687.50"), Decimal("100.00"), Decimal("787.50"),
        )  # fmt: skip
        assert AuditEvent.objects.filter(action="budget.compute", reason="rural reserve 10%").exists()


def test_computing_again_after_the_lists_were_built_still_plans_the_pupils_on_them(world, tenant_of, semester):
    """The rules leave out pupils who already have an award; the plan must not."""
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        for pupil in world.a.students["c2"]:
            identify(world.a, pupil)
        program = Program.objects.get(code="LIVING_SUBSIDY")
        _published(world.a, semester)
        budgets.budgets_compute(actor=district, program=program, semester=semester)
        budget = Budget.objects.get(program=program, semester=semester, school=world.a.schools["s1"])
        assert (budget.planned_students, budget.planned_amount) == (2, Decimal("500.00"))


def test_a_reserve_outside_0_to_100_percent_and_emergency_aid_are_refused(world, tenant_of, semester):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        program = Program.objects.get(code="LIVING_SUBSIDY")
        with pytest.raises(ValidationError):
            budgets.budgets_compute(actor=district, program=program, semester=semester, rural_reserve=Decimal("1.5"))
        with pytest.raises(ValidationError):
            budgets.budgets_compute(actor=district, program=Program.objects.get(is_emergency=True), semester=semester)
        with pytest.raises(PermissionDenied):
            budgets.budgets_compute(actor=world.a.users[Role.SCHOOL_OFFICER], program=program, semester=semester)
        assert not Budget.objects.filter(semester=semester).exists()


def test_an_adjustment_needs_a_note(world, tenant_of, semester):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        program = Program.objects.get(code="LIVING_SUBSIDY")
        budgets.budgets_compute(actor=district, program=program, semester=semester)
        budget = Budget.objects.filter(program=program, semester=semester).first()
        with pytest.raises(ValidationError):
            budgets.budget_adjust(actor=district, budget=budget, adjustment=Decimal("50"), note="  ")
        budget.refresh_from_db()
        assert budget.adjustment == Decimal("0.00")


def test_a_list_is_not_approved_against_no_budget_until_the_district_decides_so(world, tenant_of, semester):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        for pupil in [*world.a.students["c2"], *world.a.students["c4"]]:
            identify(world.a, pupil)
        program = Program.objects.get(code="LIVING_SUBSIDY")
        al = _published(world.a, semester)
        with pytest.raises(ValidationError) as refused:
            awards.award_list_approve(actor=district, award_list=al, today=dt.date(2026, 10, 1))
        assert refused.value.code == "no_budget"
        message = refused.value.messages[0]
        assert world.a.schools["s1"].name in message
        assert "预算" in message
        assert "无预算审批" in message
        al.refresh_from_db()
        assert al.status == AwardListStatus.PUBLICITY

        # Only the district center records the decision, with a reason, once.
        with pytest.raises(PermissionDenied):
            budgets.budget_waiver_record(
                actor=world.a.users[Role.SCHOOL_OFFICER], program=program, semester=semester, reason="省级专项"
            )
        with pytest.raises(ValidationError):
            budgets.budget_waiver_record(actor=district, program=program, semester=semester, reason=" ")
        waiver = budgets.budget_waiver_record(actor=district, program=program, semester=semester, reason="省级专项")
        with pytest.raises(ValidationError):
            budgets.budget_waiver_record(actor=district, program=program, semester=semester, reason="again")
        assert AuditEvent.objects.filter(action="budget.waive", object_id=str(waiver.pk), reason="省级专项").exists()

        awards.award_list_approve(actor=district, award_list=al, today=dt.date(2026, 10, 1))
        al.refresh_from_db()
        assert al.status == AwardListStatus.APPROVED

        # Withdrawn: the next list needs a budget again; the approval made stands.
        budgets.budget_waiver_withdraw(actor=district, waiver=waiver, reason="预算已下达")
        assert not BudgetWaiver.objects.filter(program=program, semester=semester).exists()
        assert AuditEvent.objects.filter(action="budget.waive_withdraw", object_id=str(waiver.pk)).exists()
        second = _published(world.a, semester, "s2")
        with pytest.raises(ValidationError) as refused:
            awards.award_list_approve(actor=district, award_list=second, today=dt.date(2026, 10, 1))
        assert refused.value.code == "no_budget"


def test_a_budget_of_the_school_still_holds_when_approval_without_budget_is_allowed(world, tenant_of, semester):
    """The decision covers schools without a budget row; a school with one stays within it."""
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        for pupil in world.a.students["c2"]:
            identify(world.a, pupil)
        program = Program.objects.get(code="LIVING_SUBSIDY")
        Budget.objects.create(program=program, semester=semester, school=world.a.schools["s1"], planned_amount=300)
        budgets.budget_waiver_record(actor=district, program=program, semester=semester, reason="省级专项")
        al = _published(world.a, semester)
        with pytest.raises(ValidationError, match=r"300\.00"):
            awards.award_list_approve(actor=district, award_list=al, today=dt.date(2026, 10, 1))
