"""The scheduled reminder of late weekly returns (每周按时填报): declared in beat, run per tenant as the
tenant's system account, audited; and once with a real worker on Redis."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from care.models import WeeklyReturn, WeeklyReturnStatus
from care.tasks import remind_weekly_returns, remind_weekly_returns_everywhere
from core import clock
from core.audit.models import AuditEvent
from core.tenancy.context import tenant_transaction
from schools.services import tenant_system_user
from schools.workdays import CalendarYearNotLoaded
from tests.workers import running_worker


def test_beat_reminds_every_night_after_the_deadlines_of_the_day(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["remind-weekly-returns"]
    assert entry["task"] == remind_weekly_returns_everywhere.name
    assert entry["task"] in remind_weekly_returns_everywhere.app.tasks
    assert remind_weekly_returns.name in remind_weekly_returns.app.tasks
    assert entry["schedule"].hour == {0}


def test_the_task_reminds_the_late_schools_as_the_tenants_system_account(world, tenant_of, settings):
    system = tenant_system_user(world.a.tenant)
    with clock.frozen_at(dt.date(2026, 10, 19)):  # the week of 12 October is past its deadline (Friday 16)
        if settings.CELERY_TASK_ALWAYS_EAGER:
            assert remind_weekly_returns_everywhere.apply().get() == 2  # one task per tenant
        else:  # with a broker, run the tenant's task here (the dispatcher runs with the real worker below)
            remind_weekly_returns.apply(
                kwargs={"tenant_id": str(world.a.tenant.pk), "actor_id": str(system.pk)}, throw=True
            )
    with tenant_of(world.a.tenant):
        late = WeeklyReturn.objects.filter(week_start=dt.date(2026, 10, 12), status=WeeklyReturnStatus.DUE)
        assert {r.school_id for r in late} == {world.a.schools["s1"].pk, world.a.schools["s2"].pk}
        events = AuditEvent.objects.filter(action="care.weekly_return_remind")
        assert {e.actor_label for e in events} == {system.username}


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_reminds_the_schools_late_with_last_weeks_return():
    """The dispatcher and the tenants' tasks through Redis, on the real date: every school of both
    tenants is late with last week's return (the world filed only the week of 5 October)."""
    from care.weekly.deadline import week_of, week_start_of
    from tests.factories import build_world

    world = build_world()
    last_week = week_start_of(timezone.localdate()) - dt.timedelta(days=7)
    with tenant_transaction(world.a.tenant.pk):
        try:
            due = week_of(last_week).due_on
        except CalendarYearNotLoaded:
            pytest.skip("the official calendar of last week's year is not loaded")
    if due is None:
        pytest.skip("last week had no working day")
    with running_worker():
        remind_weekly_returns_everywhere.delay()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with tenant_transaction(world.b.tenant.pk):
                found = WeeklyReturn.objects.filter(week_start=last_week, status=WeeklyReturnStatus.DUE).count()
            if found == 2:
                break
            time.sleep(0.3)
    for w in (world.a, world.b):
        with tenant_transaction(w.tenant.pk):
            late = WeeklyReturn.objects.filter(week_start=last_week, status=WeeklyReturnStatus.DUE)
            assert {r.school_id for r in late} == {w.schools["s1"].pk, w.schools["s2"].pk}
