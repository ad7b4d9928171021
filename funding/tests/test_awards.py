"""Award lists: who the rules fund and how much, publicity, approval within the budget."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from core import clock
from core.audit.models import AuditEvent
from funding.models import Award, AwardListStatus, AwardStatus, Budget, Program, Standard
from funding.services import awards, budgets, semesters
from schools.models import Area, School
from schools.permissions import Role
from schools.workdays import CalendarYearNotLoaded
from students.models import PublicNotice, Student, Tier
from tests.factories import make_semester
from tests.money import approved_list, ensure_budget, identify


@pytest.fixture
def semester(world, tenant_of):
    with tenant_of(world.a.tenant):
        # The world's own semester (2026 autumn) already exists: use the next one for a clean slate.
        return make_semester(academic_year=2026, term="SPRING")


def test_the_rules_pick_the_identified_pupils_of_the_programs_stages_with_their_amounts(world, tenant_of, semester):
    with tenant_of(world.a.tenant):
        boarder, day_pupil = world.a.students["c2"]
        Student.objects.filter(pk=boarder.pk).update(is_boarding=True)
        identify(world.a, boarder, tier=Tier.SPECIAL)
        identify(world.a, day_pupil)
        program = Program.objects.get(code="LIVING_SUBSIDY")
        found = {
            c.student_id: c
            for c in awards.eligible_students(program=program, semester=semester, school=world.a.schools["s1"])
        }
        assert set(found) == {boarder.pk, day_pupil.pk}  # the world's other pupils are not identified
        assert found[boarder.pk].amount == Decimal("500.00")  # primary, boarding
        assert found[day_pupil.pk].amount == Decimal("250.00")  # primary, day pupil
        assert "寄宿生" in found[boarder.pk].reason
        # Senior-high grants do not serve primary pupils; nutrition serves rural schools only (s1 is urban).
        senior = Program.objects.get(code="SENIOR_GRANT")
        assert awards.eligible_students(program=senior, semester=semester, school=world.a.schools["s1"]) == []
        nutrition = Program.objects.get(code="NUTRITION")
        assert awards.eligible_students(program=nutrition, semester=semester, school=world.a.schools["s1"]) == []
        rural = awards.eligible_students(program=nutrition, semester=semester, school=world.a.schools["s2"])
        assert rural == []  # the plan's default funds identified pupils only (seed 001), and none of s2 is
        identify(world.a, world.a.students["c4"][0])
        rural = awards.eligible_students(program=nutrition, semester=semester, school=world.a.schools["s2"])
        assert [c.student_id for c in rural] == [world.a.students["c4"][0].pk]


def test_a_tiered_program_pays_by_tier(world, tenant_of, semester):
    with tenant_of(world.a.tenant):
        program = Program.objects.get(code="SENIOR_GRANT")
        program.stages = ["PRIMARY"]  # the district extends it, for the test's primary pupils
        program.save(update_fields=["stages", "updated_at"])
        for pupil, tier in zip(world.a.students["c1"], (Tier.GENERAL, Tier.SPECIAL), strict=True):
            identify(world.a, pupil, tier=tier)
        found = awards.eligible_students(program=program, semester=semester, school=world.a.schools["s1"])
        assert sorted(c.amount for c in found) == [Decimal("800.00"), Decimal("1200.00")]


def test_a_list_is_built_published_and_approved_after_its_period(world, tenant_of, semester):
    officer, district = world.a.users[Role.SCHOOL_OFFICER], world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        for pupil in world.a.students["c2"]:
            identify(world.a, pupil)
        program = Program.objects.get(code="LIVING_SUBSIDY")
        al = awards.award_list_build(actor=officer, program=program, semester=semester, school=world.a.schools["s1"])
        assert al.awards.count() == 2
        assert (
            awards.award_list_build(
                actor=officer, program=program, semester=semester, school=world.a.schools["s1"]
            ).awards.count()
            == 2
        )
        awards.award_remove(actor=officer, award=al.awards.first(), reason="已获其他救助")
        al = awards.award_list_publish(actor=officer, award_list=al, starts_on=dt.date(2026, 9, 29))
        assert (al.status, al.ends_on) == (AwardListStatus.PUBLICITY, dt.date(2026, 10, 10))
        notice = PublicNotice.objects.get(token=al.notice_token)
        assert len(notice.rows) == 1
        with pytest.raises(ValidationError):
            awards.award_list_approve(actor=district, award_list=al, today=dt.date(2026, 10, 10))  # still public
        with pytest.raises(PermissionDenied):
            awards.award_list_approve(actor=officer, award_list=al, today=dt.date(2026, 10, 12))  # not the school's
        ensure_budget(world.a, program=program, semester=semester, school=world.a.schools["s1"])
        awards.award_list_approve(actor=district, award_list=al, today=dt.date(2026, 10, 12))
        assert sorted(Award.objects.filter(award_list=al).values_list("status", flat=True)) == [
            AwardStatus.APPROVED, AwardStatus.REMOVED,
        ]  # fmt: skip


def test_approval_never_passes_the_schools_budget(world, tenant_of, semester):
    with tenant_of(world.a.tenant):
        for pupil in world.a.students["c2"]:
            identify(world.a, pupil)
        program = Program.objects.get(code="LIVING_SUBSIDY")
        Budget.objects.create(
            program=program, semester=semester, school=world.a.schools["s1"], planned_amount=Decimal("400")
        )
        with pytest.raises(ValidationError, match=r"budget|预算"):
            approved_list(world.a, program_code="LIVING_SUBSIDY", semester=semester)


def test_budgets_follow_the_identified_students_with_a_reserve_for_rural_schools(world, tenant_of, semester):
    with tenant_of(world.a.tenant):
        School.objects.filter(pk=world.a.schools["s1"].pk).update(area=Area.RURAL)
        for pupil in world.a.students["c2"]:
            identify(world.a, pupil)
        program = Program.objects.get(code="LIVING_SUBSIDY")
        budgets.budgets_compute(actor=world.a.users[Role.DISTRICT_STAFF], program=program, semester=semester)
        budget = Budget.objects.get(program=program, semester=semester, school=world.a.schools["s1"])
        assert budget.planned_students == 2
        assert budget.planned_amount == Decimal("525.00")  # 2 × 250, and 5% for the rural reserve


def test_emergency_aid_goes_through_a_short_chain(world, tenant_of, semester):
    officer, district = world.a.users[Role.SCHOOL_OFFICER], world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        pupil = world.a.students["c3"][0]
        award = awards.emergency_propose(
            actor=officer, student=pupil, semester=semester, amount=Decimal("800"), reason="家中房屋失火"
        )
        with pytest.raises(PermissionDenied):
            awards.emergency_approve(actor=officer, award=award)
        award = awards.emergency_approve(actor=district, award=award)
        assert award.status == AwardStatus.APPROVED
        assert award.program.is_emergency


def test_after_the_deadline_lists_are_locked_until_an_audited_reopening(world, tenant_of, semester):
    from core.audit.models import AuditEvent

    officer, district = world.a.users[Role.SCHOOL_OFFICER], world.a.users[Role.DISTRICT_STAFF]
    with tenant_of(world.a.tenant):
        semester.deadline = dt.date(2020, 1, 1)
        semester.save(update_fields=["deadline", "updated_at"])
        program = Program.objects.get(code="LIVING_SUBSIDY")
        with pytest.raises(ValidationError, match=r"locked|锁定"):
            awards.award_list_build(actor=officer, program=program, semester=semester, school=world.a.schools["s1"])
        semesters.semester_reopen(actor=district, semester=semester, until=dt.date(2099, 1, 1), reason="补录遗漏学生")
        awards.award_list_build(actor=officer, program=program, semester=semester, school=world.a.schools["s1"])
        assert AuditEvent.objects.filter(action="semester.reopen", reason="补录遗漏学生").count() == 1


def test_standards_are_data_and_the_next_semester_copies_them(world, tenant_of, semester):
    with tenant_of(world.a.tenant):
        program = Program.objects.get(code="LIVING_SUBSIDY")
        Standard.objects.filter(semester=semester, program=program, stage="PRIMARY", boarding="N").update(
            amount=Decimal("275.50")
        )
        following = semesters.semester_create(
            actor=world.a.users[Role.DISTRICT_STAFF], academic_year=2027, term="AUTUMN",
            starts_on=dt.date(2027, 9, 1), ends_on=dt.date(2028, 1, 20), deadline=dt.date(2027, 11, 30),
        )  # fmt: skip
        copied = Standard.objects.get(semester=following, program=program, stage="PRIMARY", boarding="N")
        assert copied.amount == Decimal("275.50")


# --- Publicity into a year whose official calendar is not loaded -------------------------------------

IN_2027 = dt.date(2027, 1, 25)  # a Monday of a year chinesecalendar 1.11.0 does not know


def _draft(world, semester):
    for pupil in world.a.students["c2"]:
        identify(world.a, pupil)
    program = Program.objects.get(code="LIVING_SUBSIDY")
    return awards.award_list_build(
        actor=world.a.users[Role.SCHOOL_OFFICER], program=program, semester=semester, school=world.a.schools["s1"]
    )


def _still_draft(al) -> None:
    al.refresh_from_db()
    assert (al.status, al.starts_on, al.ends_on, al.published_by_id) == (AwardListStatus.DRAFT, None, None, None)
    assert not PublicNotice.objects.filter(token=al.notice_token).exists()
    assert not AuditEvent.objects.filter(action="award_list.publish").exists()


def test_an_award_list_is_not_published_into_a_year_not_loaded(world, tenant_of, semester):
    with tenant_of(world.a.tenant):
        al = _draft(world, semester)
        with pytest.raises(CalendarYearNotLoaded, match="2027"):
            awards.award_list_publish(actor=world.a.users[Role.SCHOOL_OFFICER], award_list=al, starts_on=IN_2027)
        _still_draft(al)


def test_the_award_list_page_shows_the_refusal_and_changes_nothing(world, tenant_of, semester):
    with tenant_of(world.a.tenant):
        al = _draft(world, semester)
    client = Client()
    client.force_login(world.a.users[Role.SCHOOL_OFFICER])
    with clock.frozen_at(IN_2027):
        response = client.post(f"/funding/awards/{al.pk}/publish/", follow=True)
    assert response.status_code == 200
    assert "2027年的法定节假日安排尚未导入，请联系平台管理员" in response.content.decode()
    with tenant_of(world.a.tenant):
        _still_draft(al)


def test_an_award_list_is_published_on_the_loaded_years_calendar(world, tenant_of, semester, fictional_2027):
    with tenant_of(world.a.tenant):
        al = _draft(world, semester)
        al = awards.award_list_publish(actor=world.a.users[Role.SCHOOL_OFFICER], award_list=al, starts_on=IN_2027)
        assert (al.status, al.ends_on) == (AwardListStatus.PUBLICITY, dt.date(2027, 2, 1))
