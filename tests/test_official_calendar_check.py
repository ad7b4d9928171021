"""When next year's official calendar is due (from 1 November) and missing: the daily beat task warns
and records it once; the selector behind it and the home page's banner."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.conf import settings

from audits.models import AuditEvent
from config.celery import app
from core import clock
from schools.models import OfficialCalendarYear
from schools.official_calendar.selectors import years_due_and_missing
from schools.tasks import check_official_calendar

D = dt.date


@pytest.mark.parametrize(
    ("today", "missing"),
    [
        (D(2026, 10, 31), []),  # 2026 is loaded; 2027 is not due yet
        (D(2026, 11, 1), [2027]),
        (D(2026, 12, 7), [2027]),
        (D(2026, 12, 31), [2027]),
        (D(2027, 1, 25), [2027]),  # the year itself has come: still missing, more urgent
        (D(2027, 11, 1), [2027, 2028]),
    ],
)
def test_a_year_is_due_from_the_first_of_november_before_it(db, today, missing):
    assert years_due_and_missing(today=today) == missing


def test_a_loaded_year_is_not_missing(fictional_2027):
    assert years_due_and_missing(today=D(2026, 11, 1)) == []
    assert years_due_and_missing(today=D(2027, 6, 1)) == []


def test_the_daily_check_warns_every_day_and_records_once(world, tenant_of, caplog):
    caplog.set_level(logging.WARNING, logger="schools.official_calendar.services")
    with clock.frozen_at(D(2026, 10, 31)):
        assert check_official_calendar.apply().get() == []
    assert not OfficialCalendarYear.objects.filter(year=2027).exists()
    for day in (D(2026, 11, 1), D(2026, 11, 2)):
        with clock.frozen_at(day):
            assert check_official_calendar.apply().get() == [2027]
    assert [r.getMessage()[:38] for r in caplog.records] == ["the official calendar of 2027 is not l"] * 2
    row = OfficialCalendarYear.objects.get(year=2027)
    assert (row.is_loaded, row.missing_since) == (False, D(2026, 11, 1))
    for tenant in (world.a.tenant, world.b.tenant):
        with tenant_of(tenant):
            [event] = AuditEvent.objects.filter(action="calendar.missing")
        assert (event.object_id, event.after, event.actor_label) == (
            "2027",
            {"year": 2027, "missing_since": "2026-11-01"},
            "check_official_calendar",
        )
    # Still missing: the banner's selector agrees with the row the check left.
    assert years_due_and_missing(today=D(2026, 11, 2)) == [2027]


def test_the_check_is_quiet_once_the_year_is_loaded(world, tenant_of, fictional_2027, caplog):
    with clock.frozen_at(D(2026, 11, 1)):
        assert check_official_calendar.apply().get() == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    with tenant_of(world.a.tenant):
        assert not AuditEvent.objects.filter(action="calendar.missing").exists()


def test_beat_runs_the_check_every_day():
    entry = settings.CELERY_BEAT_SCHEDULE["check-official-calendar"]
    assert entry["task"] == "schools.check_official_calendar"
    assert entry["task"] in app.tasks
    assert entry["schedule"].day_of_week == set(range(7))
    assert entry["schedule"].day_of_month == set(range(1, 32))
