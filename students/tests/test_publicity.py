"""公示: working days on the official calendar, the signed list, the public snapshot, objections."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from core import clock
from core.audit.models import AuditEvent
from core.crypto import mask
from schools.models import CalendarDay
from schools.permissions import Role
from schools.workdays import CalendarYearNotLoaded, add_working_days, is_working_day
from students.identification import publicity as pub
from students.identification.workflow import WorkflowError
from students.models import (
    ApplicationDecision,
    ApplicationStatus,
    Decision,
    ObjectionStatus,
    PublicityEntry,
    PublicityStatus,
    PublicNotice,
)
from tests.factories import make_application

S = ApplicationStatus
D = dt.date
#: An ordinary day of 2026 the tests publish on when they need "today" (the public page shows a notice
#: only during its period): a Monday, so five working days end that Friday.
TODAY = D(2026, 11, 23)
#: The Monday the refusal tests publish on: 2027's official calendar is not loaded (chinesecalendar
#: 1.11.0 ends with 2026) unless a test loads the fictional one.
IN_2027 = D(2027, 1, 25)
NOT_LOADED = "2027年的法定节假日安排尚未导入，请联系平台管理员"


# --- Working days ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        # Across National Day 2026: Oct 1-7 off, Saturday Oct 10 a make-up working day (调休).
        (D(2026, 9, 29), 5, D(2026, 10, 10)),
        # Starting on a holiday: the first working day after it is day 1.
        (D(2026, 10, 3), 5, D(2026, 10, 13)),
        # Across the Mid-Autumn weekend and the make-up Sunday Sep 20.
        (D(2026, 9, 18), 2, D(2026, 9, 20)),
        # An ordinary week.
        (D(2026, 11, 23), 5, D(2026, 11, 27)),
        (D(2026, 11, 23), 1, D(2026, 11, 23)),
    ],
)
def test_the_period_counts_working_days_on_the_official_calendar(world, tenant_of, start, days, end):
    with tenant_of(world.a.tenant):
        assert add_working_days(start, days) == end


def test_a_districts_own_rest_day_and_make_up_day_count_too(world, tenant_of):
    with tenant_of(world.a.tenant):
        CalendarDay.objects.create(date=D(2026, 10, 9), is_workday=False, note="县运动会")
        assert add_working_days(D(2026, 9, 29), 5) == D(2026, 10, 12)
        CalendarDay.objects.create(date=D(2026, 10, 11), is_workday=True, note="补班")
        assert add_working_days(D(2026, 9, 29), 5) == D(2026, 10, 11)
    with tenant_of(world.b.tenant):  # another district's days are its own
        assert add_working_days(D(2026, 9, 29), 5) == D(2026, 10, 10)


def test_a_year_whose_official_calendar_is_not_loaded_is_refused_not_guessed(world, tenant_of):
    with tenant_of(world.a.tenant):
        with pytest.raises(CalendarYearNotLoaded) as caught:
            add_working_days(IN_2027, 5)
        assert caught.value.year == 2027
        assert caught.value.messages == [NOT_LOADED]
        with pytest.raises(CalendarYearNotLoaded):
            add_working_days(D(2026, 12, 28), 5)  # Mon-Thu of 2026 are four: the fifth is in 2027
        with pytest.raises(CalendarYearNotLoaded):
            is_working_day(D(2027, 3, 1))
        # A count that ends before the missing year needs nothing of it.
        assert add_working_days(D(2026, 12, 7), 5) == D(2026, 12, 11)


def test_a_districts_own_day_decides_that_day_even_in_a_year_not_loaded(world, tenant_of):
    with tenant_of(world.a.tenant):
        CalendarDay.objects.create(date=D(2027, 1, 4), is_workday=False, note="县里放假")
        assert is_working_day(D(2027, 1, 4)) is False
        with pytest.raises(CalendarYearNotLoaded):
            is_working_day(D(2027, 1, 5))


def test_a_loaded_year_skips_its_holidays_and_counts_its_adjusted_working_days(world, tenant_of, fictional_2027):
    with tenant_of(world.a.tenant):
        # Mon 25 counts; Tue 26 and Wed 27 are (fictional) holidays; Thu 28, Fri 29, the worked
        # Saturday 30, and Monday 1 February is the fifth.
        assert add_working_days(IN_2027, 5) == D(2027, 2, 1)
        assert is_working_day(D(2027, 1, 30)) is True
        assert is_working_day(D(2027, 1, 26)) is False
        assert is_working_day(D(2027, 1, 31)) is False  # an ordinary Sunday
        # Across New Year: Thu 31 Dec 2026, (fictional) holiday Fri 1 Jan, then Mon 4 Jan.
        assert add_working_days(D(2026, 12, 31), 2) == D(2027, 1, 4)
    with tenant_of(world.b.tenant):
        assert add_working_days(IN_2027, 5) == D(2027, 2, 1)  # the national calendar is every tenant's


def test_the_national_calendar_is_read_a_year_in_one_query(world, tenant_of, fictional_2027, django_assert_num_queries):
    with tenant_of(world.a.tenant), django_assert_num_queries(2):  # both years' special days; the district's days
        assert add_working_days(D(2026, 12, 21), 30) == D(2027, 2, 2)


# --- The list, its publication, objections, closing -------------------------------------------------


@pytest.fixture
def approved(world, tenant_of):
    """Two applications of school s1 approved by the school, waiting for publicity."""
    teacher = world.a.users[Role.CLASS_TEACHER]
    with tenant_of(world.a.tenant):
        return [
            make_application(world.a.students["c1"][0], by=teacher, status=S.SCHOOL_APPROVED, tier="SPECIAL"),
            make_application(world.a.students["c2"][0], by=teacher, status=S.SCHOOL_APPROVED, tier="DIFFICULT"),
        ]


def _published(world, tenant_of, start=None):
    start = start or D(2026, 9, 29)
    officer, principal = world.a.users[Role.SCHOOL_OFFICER], world.a.users[Role.PRINCIPAL]
    with tenant_of(world.a.tenant):
        p = pub.publicity_create(actor=officer, school=world.a.schools["s1"], academic_year=2026)
        p = pub.publicity_sign(actor=principal, publicity=p)
        return pub.publicity_publish(actor=officer, publicity=p, starts_on=start)


def test_the_principal_signs_and_the_officer_publishes(world, tenant_of, approved):
    officer, principal = world.a.users[Role.SCHOOL_OFFICER], world.a.users[Role.PRINCIPAL]
    with tenant_of(world.a.tenant):
        p = pub.publicity_create(actor=officer, school=world.a.schools["s1"], academic_year=2026)
        assert p.entries.count() == 2
        with pytest.raises(WorkflowError):
            pub.publicity_publish(actor=officer, publicity=p)  # not signed yet
        with pytest.raises(WorkflowError):
            pub.publicity_sign(actor=officer, publicity=p)  # the principal signs, not the officer
        with pytest.raises(PermissionDenied):
            pub.publicity_create(
                actor=world.a.users[Role.CLASS_TEACHER], school=world.a.schools["s1"], academic_year=2026
            )
        p = pub.publicity_sign(actor=principal, publicity=p)
        with pytest.raises(WorkflowError):
            pub.publicity_publish(actor=principal, publicity=p)  # … and publishing is the officer's
        p = pub.publicity_publish(actor=officer, publicity=p, starts_on=D(2026, 9, 29))
        assert (p.status, p.starts_on, p.ends_on) == (PublicityStatus.PUBLIC, D(2026, 9, 29), D(2026, 10, 10))
        for app in approved:
            app.refresh_from_db()
            assert app.status == S.PUBLICITY


def test_the_public_snapshot_holds_only_what_may_be_published(world, tenant_of, approved):
    p = _published(world, tenant_of, start=TODAY)
    notice = PublicNotice.objects.get(token=p.notice_token)
    assert {key for row in notice.rows for key in row} == {"name", "grade", "tier"}
    assert sorted(row["name"] for row in notice.rows) == sorted(mask(a.student.name, "name") for a in approved)
    with clock.frozen_at(TODAY):
        page = Client().get(f"/p/{world.a.tenant.slug}/{p.notice_token}/")
    body = page.content.decode()
    assert page.status_code == 200
    for app in approved:
        student = app.student
        assert student.name not in body
        assert student.id_number.reveal() not in body
        assert student.id_number.masked not in body
        assert str(student.birth_date) not in body
        assert app.family_situation not in body
    assert "特别困难" in body


def test_the_public_page_exists_only_during_the_period(world, tenant_of, approved):
    p = _published(world, tenant_of)
    assert pub.notice_for_public(p.notice_token, today=D(2026, 9, 28)) is None
    assert pub.notice_for_public(p.notice_token, today=D(2026, 9, 29)) is not None
    assert pub.notice_for_public(p.notice_token, today=D(2026, 10, 10)) is not None
    assert pub.notice_for_public(p.notice_token, today=D(2026, 10, 11)) is None


def test_an_upheld_objection_takes_the_application_off_and_the_rest_goes_to_the_district(world, tenant_of, approved):
    officer = world.a.users[Role.SCHOOL_OFFICER]
    p = _published(world, tenant_of)
    contested, fine = approved
    with tenant_of(world.a.tenant):
        objection = pub.objection_record(
            actor=officer,
            publicity=p,
            application=contested,
            raised_by="匿名家长",
            channel="电话",
            content="该生家庭近期购买新车",
            received_on=D(2026, 9, 30),
        )
        assert pub.publicities_close_due(actor=officer, today=D(2026, 10, 12)) == 0  # an objection is open
        pub.objection_resolve(actor=officer, objection=objection, upheld=True, decision="经入户核实，情况属实")
        objection.refresh_from_db()
        assert objection.status == ObjectionStatus.UPHELD
        contested.refresh_from_db()
        fine.refresh_from_db()
        assert contested.status == S.SCHOOL_REVIEW
        # The period was already over: answering the last objection closed the list.
        assert fine.status == S.DISTRICT_REVIEW
        p.refresh_from_db()
        assert p.status == PublicityStatus.CLOSED
        assert PublicityEntry.objects.get(publicity=p, application=contested).withdrawn


def test_a_dismissed_objection_leaves_the_list_as_it_is_until_the_period_ends(world, tenant_of, approved):
    officer = world.a.users[Role.SCHOOL_OFFICER]
    p = _published(world, tenant_of, start=TODAY)
    with tenant_of(world.a.tenant), clock.frozen_at(TODAY):
        objection = pub.objection_record(
            actor=officer,
            publicity=p,
            application=approved[0],
            raised_by="同学",
            content="不困难",
            received_on=TODAY,
        )
        pub.objection_resolve(actor=officer, objection=objection, upheld=False, decision="核实后不成立")
        p.refresh_from_db()
        assert p.status == PublicityStatus.PUBLIC  # still within the period
        assert pub.publicities_close_due(actor=officer, today=p.ends_on) == 0
        assert pub.publicities_close_due(actor=officer, today=p.ends_on + dt.timedelta(days=1)) == 1
        for app in approved:
            app.refresh_from_db()
            assert app.status == S.DISTRICT_REVIEW
        with pytest.raises(WorkflowError):
            pub.objection_resolve(actor=officer, objection=objection, upheld=True, decision="again")


def test_the_list_cannot_change_while_it_is_public(world, tenant_of, approved):
    officer = world.a.users[Role.SCHOOL_OFFICER]
    p = _published(world, tenant_of)
    with tenant_of(world.a.tenant):
        late = make_application(
            world.a.students["c3"][0], by=world.a.users[Role.CLASS_TEACHER], status=S.SCHOOL_APPROVED
        )
        second = pub.publicity_create(actor=officer, school=world.a.schools["s1"], academic_year=2026)
        # The late one goes onto a new list; the public one keeps its two entries.
        assert list(second.entries.values_list("application_id", flat=True)) == [late.pk]
        assert p.entries.count() == 2
        with pytest.raises(WorkflowError):
            pub.objection_record(
                actor=officer, publicity=second, raised_by="x", content="y", received_on=D(2026, 10, 1)
            )  # not public


def test_the_nightly_task_closes_due_lists_as_the_tenants_system_account(world, tenant_of, approved, settings):
    from students.identification.tasks import close_due_publicities, close_due_publicities_everywhere

    p = _published(world, tenant_of)  # ended 2026-10-10: long past
    if settings.CELERY_TASK_ALWAYS_EAGER:
        assert close_due_publicities_everywhere.apply().get() == 2
    else:  # with a broker, run the tenant's task here (the dispatcher is covered on SQLite)
        from schools.services import tenant_system_user

        system = tenant_system_user(world.a.tenant)
        close_due_publicities.apply(
            kwargs={"tenant_id": str(world.a.tenant.pk), "actor_id": str(system.pk)}, throw=True
        )
    with tenant_of(world.a.tenant):
        p.refresh_from_db()
        assert p.status == PublicityStatus.CLOSED
        decision = approved[0].decisions.order_by("-created_at").first()
        assert decision.actor.username == "system@tenant-a"


# --- Publishing into a year whose official calendar is not loaded -----------------------------------


def _signed(world, tenant_of):
    officer, principal = world.a.users[Role.SCHOOL_OFFICER], world.a.users[Role.PRINCIPAL]
    with tenant_of(world.a.tenant):
        p = pub.publicity_create(actor=officer, school=world.a.schools["s1"], academic_year=2026)
        return pub.publicity_sign(actor=principal, publicity=p)


def _nothing_published(world, tenant_of, p, approved):
    with tenant_of(world.a.tenant):
        p.refresh_from_db()
        assert (p.status, p.starts_on, p.ends_on, p.published_by_id) == (PublicityStatus.SIGNED, None, None, None)
        for app in approved:
            app.refresh_from_db()
            assert app.status == S.SCHOOL_APPROVED
        assert not ApplicationDecision.objects.filter(application__in=approved, decision=Decision.PUBLISH).exists()
        assert not AuditEvent.objects.filter(action__in=["publicity.publish", "application.publish"]).exists()
    assert not PublicNotice.objects.filter(token=p.notice_token).exists()


def test_publishing_on_a_day_of_a_year_not_loaded_is_refused_and_changes_nothing(world, tenant_of, approved):
    p = _signed(world, tenant_of)
    with tenant_of(world.a.tenant), pytest.raises(CalendarYearNotLoaded, match="2027"):
        pub.publicity_publish(actor=world.a.users[Role.SCHOOL_OFFICER], publicity=p, starts_on=IN_2027)
    _nothing_published(world, tenant_of, p, approved)


def test_the_publish_button_shows_the_refusal_and_changes_nothing(world, tenant_of, approved):
    p = _signed(world, tenant_of)
    client = Client()
    client.force_login(world.a.users[Role.SCHOOL_OFFICER])
    with clock.frozen_at(IN_2027):
        response = client.post(f"/students/publicity/{p.pk}/publish/", follow=True)
    assert response.status_code == 200
    assert NOT_LOADED in response.content.decode()
    _nothing_published(world, tenant_of, p, approved)


def test_the_api_answers_400_with_the_refusal_and_changes_nothing(world, tenant_of, approved):
    from rest_framework.test import APIClient

    p = _signed(world, tenant_of)
    client = APIClient()
    client.force_login(world.a.users[Role.SCHOOL_OFFICER])  # a session: the tenant middleware sees the user
    with clock.frozen_at(IN_2027):
        response = client.post(f"/api/v1/publicity/{p.pk}/publish/")
    assert response.status_code == 400
    assert response.json() == {"detail": [NOT_LOADED]}
    _nothing_published(world, tenant_of, p, approved)


def test_once_the_year_is_loaded_the_same_button_publishes_on_its_calendar(world, tenant_of, approved, fictional_2027):
    p = _signed(world, tenant_of)
    client = Client()
    client.force_login(world.a.users[Role.SCHOOL_OFFICER])
    with clock.frozen_at(IN_2027):
        response = client.post(f"/students/publicity/{p.pk}/publish/", follow=True)
    assert "2027年2月1日" in response.content.decode()  # "published until", past the fictional holidays
    with tenant_of(world.a.tenant):
        p.refresh_from_db()
        assert (p.status, p.starts_on, p.ends_on) == (PublicityStatus.PUBLIC, IN_2027, D(2027, 2, 1))


def test_a_list_already_public_keeps_its_stored_end_and_closes_in_a_year_not_loaded(world, tenant_of, approved):
    p = _published(world, tenant_of, start=D(2026, 12, 21))  # ends Friday 2026-12-25, counted in 2026
    assert p.ends_on == D(2026, 12, 25)
    officer = world.a.users[Role.SCHOOL_OFFICER]
    client = Client()
    client.force_login(officer)
    with clock.frozen_at(IN_2027):
        page = client.get(f"/students/publicity/{p.pk}/")  # closes due lists: reads the stored end only
        assert page.status_code == 200
    with tenant_of(world.a.tenant):
        p.refresh_from_db()
        assert (p.status, p.ends_on) == (PublicityStatus.CLOSED, D(2026, 12, 25))
        for app in approved:
            app.refresh_from_db()
            assert app.status == S.DISTRICT_REVIEW


# --- A publicity held on paper, recorded afterwards (issue 19, item 1) -----------------------------------


def test_a_publicity_held_on_paper_is_recorded_with_its_dates_and_signer_and_closes_at_once(world, tenant_of, approved):
    """A district adopting the product mid-year held its spring publicity on paper: it records it as
    held, in the past, and the applications go on to the district, without the clock being moved."""
    officer = world.a.users[Role.SCHOOL_OFFICER]
    with tenant_of(world.a.tenant):
        p = pub.publicity_create(actor=officer, school=world.a.schools["s1"], academic_year=2026)
        with pytest.raises(WorkflowError, match=r"签批|signed"):
            pub.publicity_record_held(
                actor=officer, publicity=p, starts_on=D(2026, 9, 29), ends_on=D(2026, 10, 10), signed_by_name=" "
            )
        with pytest.raises(WorkflowError, match="5"):  # 29 Sep + 5 working days ends on 10 Oct, not 9 Oct
            pub.publicity_record_held(
                actor=officer, publicity=p, starts_on=D(2026, 9, 29), ends_on=D(2026, 10, 9), signed_by_name="王校长"
            )
        with pytest.raises(WorkflowError):  # not in the past
            pub.publicity_record_held(
                actor=officer,
                publicity=p,
                starts_on=clock.today(),
                ends_on=clock.today() + dt.timedelta(days=30),
                signed_by_name="王校长",
            )
        with pytest.raises(WorkflowError):  # a teacher does not manage the school's publicity
            pub.publicity_record_held(
                actor=world.a.users[Role.CLASS_TEACHER],
                publicity=p,
                starts_on=D(2026, 9, 29),
                ends_on=D(2026, 10, 10),
                signed_by_name="王校长",
            )
        held = pub.publicity_record_held(
            actor=officer, publicity=p, starts_on=D(2026, 9, 29), ends_on=D(2026, 10, 10), signed_by_name="王校长"
        )
        assert (held.status, held.starts_on, held.ends_on) == (PublicityStatus.CLOSED, D(2026, 9, 29), D(2026, 10, 10))
        assert (held.recorded_afterwards, held.signed_by_name, held.published_by) == (True, "王校长", officer)
        for app in approved:
            app.refresh_from_db()
            assert app.status == S.DISTRICT_REVIEW
        event = AuditEvent.objects.get(object_id=str(p.pk), action="publicity.record_held")
        assert "王校长" in event.reason
        assert "2026-09-29" in event.reason
        assert not PublicNotice.objects.filter(token=held.notice_token).exists()


def test_the_officer_records_a_paper_publicity_on_the_lists_page(world, tenant_of, approved):
    officer = world.a.users[Role.SCHOOL_OFFICER]
    with tenant_of(world.a.tenant):
        p = pub.publicity_create(actor=officer, school=world.a.schools["s1"], academic_year=2026)
    client = Client()
    client.force_login(officer)
    page = client.get(f"/students/publicity/{p.pk}/")
    assert 'data-testid="record-held"' in page.content.decode()
    empty = client.post(f"/students/publicity/{p.pk}/record-held/", {}, follow=True)
    assert empty.status_code == 200
    assert 'data-testid="record-held"' in empty.content.decode()  # still a draft, the form is shown again
    response = client.post(
        f"/students/publicity/{p.pk}/record-held/",
        {"starts_on": "2026-09-29", "ends_on": "2026-10-10", "signed_by_name": "王校长"},
        follow=True,
    )
    assert response.status_code == 200
    with tenant_of(world.a.tenant):
        p.refresh_from_db()
        assert (p.status, p.signed_by_name) == (PublicityStatus.CLOSED, "王校长")
    assert "王校长" in response.content.decode()


def test_the_public_address_carries_the_district_and_the_old_one_leads_there(world, tenant_of, approved):
    """/p/<district>/<token>/ finds the notice within its district (one shard on Citus); the same token
    under another district's code is not found; the old /p/<token>/ printed on earlier notices
    redirects to the new address."""
    p = _published(world, tenant_of, start=TODAY)
    with clock.frozen_at(TODAY):
        client = Client()
        assert client.get(f"/p/{world.a.tenant.slug}/{p.notice_token}/").status_code == 200
        assert client.get(f"/p/{world.b.tenant.slug}/{p.notice_token}/").status_code == 404
        old = client.get(f"/p/{p.notice_token}/")
        assert old.status_code == 301
        assert old["Location"] == f"/p/{world.a.tenant.slug}/{p.notice_token}/"
    with tenant_of(world.a.tenant), clock.frozen_at(TODAY):
        client.force_login(world.a.users[Role.SCHOOL_OFFICER])
        detail = client.get(reverse("students:publicity", args=[p.pk])).content.decode()
    assert f'href="/p/{world.a.tenant.slug}/{p.notice_token}/"' in detail
