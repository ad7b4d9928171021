"""The weekly return (每周按时填报): deadlines on the working-day calendar (a holiday week), counts from
the cases, zero returns, one return per school and week, lateness, reminders of late schools."""

from __future__ import annotations

import datetime as dt

import pytest

from care import services as case_services
from care.models import CareRules, WeeklyReturn, WeeklyReturnStatus
from care.services import CareError
from care.weekly import selectors, services
from care.weekly.deadline import week_of
from core import clock
from core.audit.models import AuditEvent
from schools.models import User
from schools.permissions import Role

NATIONAL_DAY_WEEK = dt.date(2026, 9, 28)  # Mon 28 Sep – Sun 4 Oct: 1–4 October are holidays
GOLDEN_WEEK_TAIL = dt.date(2026, 10, 5)  # Mon 5 – Sun 11 Oct: 5–7 off, Saturday 10 worked (调休)
ORDINARY_WEEK = dt.date(2026, 10, 12)


def _submit(tenant_of, w, day, *, today, role=Role.SCHOOL_OFFICER, school="s1", **kwargs):
    with tenant_of(w.tenant), clock.frozen_at(today):
        return services.weekly_return_submit(actor=w.users[role], school=w.schools[school], day=day, **kwargs)


def test_the_deadline_is_the_weeks_last_working_day_on_the_calendar(world, tenant_of):
    with tenant_of(world.a.tenant):
        assert week_of(ORDINARY_WEEK + dt.timedelta(days=3)).due_on == dt.date(2026, 10, 16)  # Friday
        assert week_of(NATIONAL_DAY_WEEK).due_on == dt.date(2026, 9, 30)  # Wednesday, before the holiday
        assert week_of(GOLDEN_WEEK_TAIL).due_on == dt.date(2026, 10, 10)  # the make-up Saturday


def test_the_deadline_is_data_per_district(world, tenant_of):
    with tenant_of(world.a.tenant):
        rules = CareRules.objects.get()
        rules.weekly_due_days = 1
        rules.save(update_fields=["weekly_due_days", "updated_at"])
        # One working day after Wednesday 30 September is Thursday 8 October, past the holiday.
        assert week_of(NATIONAL_DAY_WEEK).due_on == dt.date(2026, 10, 8)
    with tenant_of(world.b.tenant):
        assert week_of(NATIONAL_DAY_WEEK).due_on == dt.date(2026, 9, 30)


def test_a_return_in_the_holiday_is_late_and_a_zero_return_is_a_return(world, tenant_of):
    w = world.a
    on_time = _submit(tenant_of, w, NATIONAL_DAY_WEEK, today=dt.date(2026, 9, 30))
    assert (on_time.status, on_time.is_late, on_time.due_on) == (
        WeeklyReturnStatus.SUBMITTED,
        False,
        dt.date(2026, 9, 30),
    )
    assert (on_time.dropouts, on_time.suspected) == (0, 0)  # the world's cases open on 12 October


def test_the_holiday_week_return_filed_on_a_holiday_is_late(world, tenant_of):
    """Thursday 1 October is in the same calendar week, but past its deadline (Wednesday, before the
    holiday): late, although a Monday-to-Friday rule would have said on time."""
    late = _submit(tenant_of, world.a, NATIONAL_DAY_WEEK, today=dt.date(2026, 10, 1))
    assert late.is_late
    assert late.due_on == dt.date(2026, 9, 30)


@pytest.fixture
def twice(world, tenant_of):
    _submit(tenant_of, world.a, ORDINARY_WEEK, today=dt.date(2026, 10, 16), notes="无新增")


def test_submitting_twice_files_one_return_with_a_clear_message(world, tenant_of, twice):
    w = world.a
    with pytest.raises(CareError) as refused:
        _submit(tenant_of, w, ORDINARY_WEEK + dt.timedelta(days=2), today=dt.date(2026, 10, 16))
    assert "未重复提交" in refused.value.messages[0]  # "…already submitted by … at …: not submitted twice"
    with tenant_of(w.tenant):
        rows = list(WeeklyReturn.objects.filter(school=w.schools["s1"], week_start=ORDINARY_WEEK))
        assert len(rows) == 1
        assert rows[0].notes == "无新增"
        assert AuditEvent.objects.filter(action="care.weekly_return_submit", object_id=str(rows[0].pk)).count() == 1


def test_counts_come_from_the_cases_as_they_stood_that_week(world, tenant_of):
    """s1 has three suspected dropouts (c1–c3, from 12 October). Confirming c1 on 20 October does not
    change the week of 12 October, and makes it a dropout in the week of 19 October."""
    w = world.a
    with tenant_of(w.tenant), clock.frozen_at(dt.date(2026, 10, 20)):
        case_services.case_transition(actor=w.users[Role.DISTRICT_STAFF], case=w.cases["c1"], name="confirm")
    first = _submit(tenant_of, w, ORDINARY_WEEK, today=dt.date(2026, 10, 21))
    assert (first.dropouts, first.suspected, first.is_late) == (0, 3, True)
    second = _submit(tenant_of, w, dt.date(2026, 10, 19), today=dt.date(2026, 10, 23))
    assert (second.dropouts, second.suspected, second.is_late) == (1, 2, False)
    with tenant_of(w.tenant):
        counts = selectors.case_counts(school_ids=[w.schools["s2"].pk], as_of=dt.date(2026, 10, 25))
    assert counts == {w.schools["s2"].pk: (0, 1)}


def test_counts_that_moved_while_the_officer_reviewed_them_file_nothing(world, tenant_of):
    with pytest.raises(CareError) as refused:
        _submit(tenant_of, world.a, ORDINARY_WEEK, today=dt.date(2026, 10, 16), expected=(0, 2))
    assert "有变化" in refused.value.messages[0]  # "the cases changed while you were reviewing them"
    assert _submit(tenant_of, world.a, ORDINARY_WEEK, today=dt.date(2026, 10, 16), expected=(0, 3)).suspected == 3


@pytest.mark.parametrize("role", [Role.CLASS_TEACHER, Role.PRINCIPAL, Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR])
def test_only_the_schools_officer_submits(world, tenant_of, role):
    with pytest.raises(CareError):
        _submit(tenant_of, world.a, ORDINARY_WEEK, today=dt.date(2026, 10, 16), role=role)


def test_another_schools_return_is_refused_and_a_future_week_too(world, tenant_of):
    with pytest.raises(CareError) as refused:
        _submit(tenant_of, world.a, ORDINARY_WEEK, today=dt.date(2026, 10, 16), school="s2")
    assert refused.value.messages == [str(services.MSG_NOT_YOUR_SCHOOL)]
    with pytest.raises(CareError):
        _submit(tenant_of, world.a, dt.date(2026, 10, 26), today=dt.date(2026, 10, 23))
    with tenant_of(world.a.tenant):
        assert not WeeklyReturn.objects.filter(week_start__gte=ORDINARY_WEEK).exists()


def test_late_schools_are_reminded_once_and_a_reminded_school_still_submits(world, tenant_of):
    w = world.a
    _submit(tenant_of, w, ORDINARY_WEEK, today=dt.date(2026, 10, 16))  # s1 on time; s2 not at all
    with tenant_of(w.tenant):
        system = w.users[Role.DISTRICT_STAFF]
        # Friday 16 October: the week is due today; the week before was filed by both (the world's returns).
        assert services.weekly_returns_remind(actor=system, today=dt.date(2026, 10, 16)) == 0
        assert services.weekly_returns_remind(actor=system, today=dt.date(2026, 10, 19)) == 1
        assert services.weekly_returns_remind(actor=system, today=dt.date(2026, 10, 20)) == 0  # once
        reminder = WeeklyReturn.objects.get(school=w.schools["s2"], week_start=ORDINARY_WEEK)
        assert reminder.status == WeeklyReturnStatus.DUE
        assert reminder.reminded_at is not None
        assert AuditEvent.objects.filter(action="care.weekly_return_remind", object_id=str(reminder.pk)).exists()
    with tenant_of(w.tenant), clock.frozen_at(dt.date(2026, 10, 20)):
        w.users[Role.SCHOOL_OFFICER].role_assignments.create(role=Role.SCHOOL_OFFICER, school=w.schools["s2"])
        officer = User.objects.get(pk=w.users[Role.SCHOOL_OFFICER].pk)  # its roles read afresh
        filed = services.weekly_return_submit(actor=officer, school=w.schools["s2"], day=ORDINARY_WEEK)
    assert (filed.pk, filed.status, filed.is_late) == (reminder.pk, WeeklyReturnStatus.SUBMITTED, True)


def test_the_districts_overview_counts_submitted_late_and_missing(world, tenant_of):
    w = world.a
    _submit(tenant_of, w, ORDINARY_WEEK, today=dt.date(2026, 10, 19))  # late
    with tenant_of(w.tenant):
        week = week_of(ORDINARY_WEEK)
        overview = selectors.week_overview(
            user=w.users[Role.DISTRICT_STAFF], week=week, today=dt.date(2026, 10, 19), time=dt.time(9)
        )
        assert (overview.submitted, overview.late, overview.missing, overview.pending) == (1, 1, 1, 0)
        assert [row.school for row in overview.rows] == [w.schools["s2"], w.schools["s1"]]  # missing first
        before = selectors.week_overview(
            user=w.users[Role.DISTRICT_STAFF], week=week, today=dt.date(2026, 10, 16), time=dt.time(9)
        )
        assert (before.missing, before.pending) == (0, 1)
        officer = selectors.week_overview(
            user=w.users[Role.SCHOOL_OFFICER], week=week, today=dt.date(2026, 10, 19), time=dt.time(9)
        )
        assert [row.school for row in officer.rows] == [w.schools["s1"]]


def test_the_week_and_the_summary_cost_the_same_queries_for_five_schools_as_for_two(world, tenant_of):
    """Set-based: no query per school (the district's week, the statistics table, a return's counts)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from care.weekly import summary
    from schools.models import Grade, School

    w = world.a
    district = w.users[Role.DISTRICT_STAFF]

    def cost() -> list[int]:
        counts = []
        with tenant_of(w.tenant):
            week = week_of(ORDINARY_WEEK)
            ids = list(School.objects.values_list("pk", flat=True))
            period = summary.Period.parse("2026-10")
            district.__dict__.pop("_assignments_cache", None)
            cache.clear()  # the summary keeps its attending count half a minute: measured read each time
            for read in (
                lambda: selectors.week_overview(user=district, week=week, today=ORDINARY_WEEK, time=dt.time(9)),
                lambda: summary.dropout_summary(user=district, period=period),
                lambda: selectors.case_counts(school_ids=ids, as_of=ORDINARY_WEEK),
            ):
                with CaptureQueriesContext(connection) as queries:
                    read()
                counts.append(len(queries))
        return counts

    before = cost()
    with tenant_of(w.tenant):
        for n in range(3):
            school = School.objects.create(
                code=f"99000000{n:02d}", name=f"新增学校{n}", stages=["JUNIOR"], area="RURAL", township="新镇"
            )
            Grade.objects.create(school=school, stage="JUNIOR", entry_year=2025)
    after = cost()
    assert before == after
    assert max(after) <= 6
