"""Budgets hold what is approved: no adjustment (service, admin, or a race of two officers) puts a
school's quota below the awards already approved against it."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection
from django.test import Client

from core.audit.models import AuditEvent
from core.tenancy.context import tenant_transaction
from funding.models import AwardListStatus, Budget, Program
from funding.services import awards, budgets
from schools.permissions import Role
from tests.factories import PASSWORD, make_semester
from tests.money import approved_list, identify


def _budget(w, semester, *, planned: str) -> Budget:
    program = Program.objects.get(code="LIVING_SUBSIDY")
    return Budget.objects.create(program=program, semester=semester, school=w.schools["s1"], planned_amount=planned)


def test_an_adjustment_below_what_is_approved_is_refused_and_changes_nothing(world, tenant_of):
    district = world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in world.a.students["c2"]:
            identify(world.a, pupil)
        budget = _budget(world.a, semester, planned="800")
        approved_list(world.a, program_code="LIVING_SUBSIDY", semester=semester)  # 2 × ¥250 approved
        events = AuditEvent.objects.filter(action="budget.adjust").count()
        with pytest.raises(ValidationError, match=r"500\.00") as refused:
            budgets.budget_adjust(actor=district, budget=budget, adjustment=Decimal("-400"), note="调剂")
        assert "400.00" in str(refused.value.messages[0])  # the quota it would have been
        budget.refresh_from_db()
        assert budget.adjustment == Decimal("0.00")
        assert AuditEvent.objects.filter(action="budget.adjust").count() == events
        # Down to exactly what is approved is allowed.
        budgets.budget_adjust(actor=district, budget=budget, adjustment=Decimal("-300"), note="调剂")
        budget.refresh_from_db()
        assert budget.quota == Decimal("500.00")


def test_the_admin_refuses_the_cut_with_the_message_and_keeps_the_budget(world, tenant_of):
    with tenant_of(world.a.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in world.a.students["c2"]:
            identify(world.a, pupil)
        budget = _budget(world.a, semester, planned="800")
        approved_list(world.a, program_code="LIVING_SUBSIDY", semester=semester)
    client = Client()
    client.login(username=world.a.users[Role.DISTRICT_STAFF].username, password=PASSWORD)
    form = {"program": str(budget.program_id), "semester": str(semester.pk), "school": str(budget.school_id),
            "note": "调剂"}  # fmt: skip
    response = client.post(f"/admin/funding/budget/{budget.pk}/change/", {**form, "adjustment": "-400"})
    assert response.status_code == 200  # the form again, with the error
    assert "500.00" in response.content.decode()
    with tenant_transaction(world.a.tenant.pk):
        budget.refresh_from_db()
        assert budget.adjustment == Decimal("0.00")
    response = client.post(f"/admin/funding/budget/{budget.pk}/change/", {**form, "adjustment": "-100"})
    assert response.status_code == 302
    with tenant_transaction(world.a.tenant.pk):
        budget.refresh_from_db()
        assert budget.adjustment == Decimal("-100.00")
        assert AuditEvent.objects.filter(action="budget.adjust", object_id=str(budget.pk)).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_approval_and_a_cut_at_once_never_leave_the_quota_below_what_is_approved():
    """Two officers: one approves a ¥500 list while the other cuts the quota to ¥400. Whichever holds
    the budget row first wins; the other is refused. Never both."""
    from tests.factories import build_world

    w = build_world().a
    with tenant_transaction(w.tenant.pk):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in w.students["c2"]:
            identify(w, pupil)
        budget = _budget(w, semester, planned="800")
        program = Program.objects.get(code="LIVING_SUBSIDY")
        officer = w.users[Role.SCHOOL_OFFICER]
        award_list = awards.award_list_build(actor=officer, program=program, semester=semester, school=w.schools["s1"])
        award_list = awards.award_list_publish(actor=officer, award_list=award_list, starts_on=dt.date(2026, 9, 14))
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def act(name, work):
        try:
            barrier.wait()
            with tenant_transaction(w.tenant.pk):
                work()
            outcomes[name] = "done"
        except ValidationError:
            outcomes[name] = "refused"
        finally:
            close_old_connections()
            connection.close()

    district = w.users[Role.DISTRICT_STAFF]
    approve = lambda: awards.award_list_approve(actor=district, award_list=award_list, today=dt.date(2026, 10, 1))  # noqa: E731
    cut = lambda: budgets.budget_adjust(actor=district, budget=budget, adjustment=Decimal("-400"), note="调剂")  # noqa: E731
    threads = [threading.Thread(target=act, args=("approve", approve)), threading.Thread(target=act, args=("cut", cut))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes.values()) == ["done", "refused"], outcomes
    with tenant_transaction(w.tenant.pk):
        budget.refresh_from_db()
        award_list.refresh_from_db()
        approved = awards.approved_total(program=program, semester=semester, school=w.schools["s1"])
        assert budget.quota >= approved
        assert (award_list.status == AwardListStatus.APPROVED) is (outcomes["approve"] == "done")
