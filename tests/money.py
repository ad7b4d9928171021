"""Helpers of the money tests: identified students and approved award lists, made through services."""

from __future__ import annotations

import datetime as dt

from funding.models import Budget, Program, Semester
from funding.services import awards, budgets
from schools.permissions import Role
from students.identification.summary import identified_summary_touch
from students.models import ApplicationStatus, HardshipApplication, Tier
from tests.factories import TenantWorld, make_application


def identify(w: TenantWorld, student, *, tier: str = Tier.DIFFICULT, year: int = 2026):
    """An identified application of the student (straight into the table: the chain has its own tests)."""
    existing = HardshipApplication.objects.filter(student=student, academic_year=year).first()
    if existing is not None:
        HardshipApplication.objects.filter(pk=existing.pk).update(status=ApplicationStatus.IDENTIFIED, tier=tier)
        app = HardshipApplication.objects.get(pk=existing.pk)
    else:
        app = make_application(
            student, by=w.users[Role.CLASS_TEACHER], status=ApplicationStatus.IDENTIFIED, tier=tier, academic_year=year
        )
    # Written behind the services: the dashboard's identified summary is refreshed as a service would.
    identified_summary_touch(applications=[app])
    return app


def approved_list(w: TenantWorld, *, program_code: str, semester: Semester, school_key: str = "s1"):
    """The school's list for the program, built, published and approved (after its period), within
    a budget: computed for every school if this one has none yet (a test that set one keeps it)."""
    program = Program.objects.get(code=program_code)
    school = w.schools[school_key]
    award_list = awards.award_list_build(
        actor=w.users[Role.SCHOOL_OFFICER], program=program, semester=semester, school=school
    )
    ensure_budget(w, program=program, semester=semester, school=school)
    award_list = awards.award_list_publish(
        actor=w.users[Role.SCHOOL_OFFICER], award_list=award_list, starts_on=dt.date(2026, 9, 14)
    )
    return awards.award_list_approve(
        actor=w.users[Role.DISTRICT_STAFF], award_list=award_list, today=dt.date(2026, 10, 1)
    )


def ensure_budget(w: TenantWorld, *, program: Program, semester: Semester, school) -> None:
    """The program's budgets of the semester, computed (again) by the district if `school` has none:
    a list cannot be approved against no budget."""
    if not Budget.objects.filter(program=program, semester=semester, school=school).exists():
        budgets.budgets_compute(actor=w.users[Role.DISTRICT_STAFF], program=program, semester=semester)
