"""Loading a year of the official calendar: all or nothing, idempotent, audited in every tenant's trail;
the seed from chinesecalendar and the command."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils import translation

from audits.models import AuditEvent
from core.audit import trail
from schools import services
from schools.models import CalendarDayKind, OfficialCalendarDay, OfficialCalendarYear
from schools.official_calendar.files import CalendarFileError
from schools.official_calendar.library import SOURCE
from schools.official_calendar.services import official_calendar_load, official_calendar_load_library
from schools.permissions import Role
from tests.factories import FICTIONAL_2027_CSV

D = dt.date
FICTIONAL = FICTIONAL_2027_CSV.encode()


@pytest.fixture
def operator(db):
    return services.user_create(tenant=None, username="operator", password="x", validate=False)


def _days(year: int) -> set[tuple]:
    return set(OfficialCalendarDay.objects.filter(calendar_year__year=year).values_list("date", "kind", "name"))


def _events(tenant_of, tenant, action="calendar.load") -> list[AuditEvent]:
    with tenant_of(tenant):
        return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def test_the_migration_seeded_every_year_the_package_knows(db):
    years = OfficialCalendarYear.objects.filter(is_loaded=True)
    assert (min(y.year for y in years), max(y.year for y in years)) == (2004, 2026)
    assert not OfficialCalendarYear.objects.filter(year=2027, is_loaded=True).exists()
    y2026 = OfficialCalendarYear.objects.get(year=2026)
    assert (y2026.source, y2026.holiday_count, y2026.workday_count) == (SOURCE, 33, 6)
    assert (D(2026, 2, 17), CalendarDayKind.HOLIDAY, "春节") in _days(2026)
    assert (D(2026, 10, 10), CalendarDayKind.WORKDAY, "国庆节") in _days(2026)


def test_the_operator_loads_a_year_and_every_tenant_trail_records_who_which_year_how_many_days_and_the_hash(
    world, tenant_of, operator
):
    with trail.acting_as(trail.actor_for(operator, source="web")):
        load = official_calendar_load(year=2027, data=FICTIONAL, source="2027.csv", actor=operator)
    assert (load.year, load.holidays, load.workdays, load.changed) == (2027, 3, 1, True)
    row = OfficialCalendarYear.objects.get(year=2027)
    assert row.is_loaded
    assert row.loaded_by == operator
    assert row.loaded_at is not None
    assert row.sha256 == hashlib.sha256(FICTIONAL).hexdigest() == load.sha256
    assert (D(2027, 1, 30), CalendarDayKind.WORKDAY, "虚构节") in _days(2027)
    for tenant in (world.a.tenant, world.b.tenant):
        [event] = _events(tenant_of, tenant)
        assert (event.actor_id, event.object_type, event.object_id) == (
            operator.pk,
            "schools.officialcalendaryear",
            "2027",
        )
        assert event.after == {
            "year": 2027, "holidays": 3, "workdays": 1, "days": 4, "sha256": load.sha256, "source": "2027.csv",
        }  # fmt: skip
        assert event.before is None


def test_loading_the_same_file_again_changes_and_records_nothing(world, tenant_of, operator):
    official_calendar_load(year=2027, data=FICTIONAL, source="2027.csv", actor=operator)
    ids = set(OfficialCalendarDay.objects.filter(calendar_year__year=2027).values_list("pk", flat=True))
    again = official_calendar_load(year=2027, data=FICTIONAL, source="2027-again.csv", actor=operator)
    assert again.changed is False
    assert set(OfficialCalendarDay.objects.filter(calendar_year__year=2027).values_list("pk", flat=True)) == ids
    assert OfficialCalendarYear.objects.get(year=2027).source == "2027.csv"
    assert len(_events(tenant_of, world.a.tenant)) == 1


def test_loading_a_corrected_file_replaces_the_year_whole(world, tenant_of, operator):
    official_calendar_load(year=2027, data=FICTIONAL, source="2027.csv", actor=operator)
    corrected = "date,kind,name\n2027-01-01,holiday,虚构元旦\n2027-01-29,holiday,虚构节\n"
    official_calendar_load(year=2027, data=corrected.encode(), source="2027-v2.csv", actor=operator)
    assert _days(2027) == {
        (D(2027, 1, 1), CalendarDayKind.HOLIDAY, "虚构元旦"),
        (D(2027, 1, 29), CalendarDayKind.HOLIDAY, "虚构节"),
    }
    first, second = _events(tenant_of, world.a.tenant)
    assert second.before == first.after
    assert second.after["days"] == 2
    assert second.after["sha256"] == hashlib.sha256(corrected.encode()).hexdigest()
    assert _days(2026)  # other years untouched


def test_a_bad_file_changes_nothing_and_says_which_line(world, tenant_of, operator):
    official_calendar_load(year=2027, data=FICTIONAL, source="2027.csv", actor=operator)
    before = _days(2027)
    bad = "date,kind,name\n2027-01-26,holiday,虚构节\n2027-01-26,workday,虚构节\n2027-02-01,holiday,虚构节\n"
    with translation.override("zh-hans"), pytest.raises(CalendarFileError) as caught:
        official_calendar_load(year=2027, data=bad.encode(), source="bad.csv", actor=operator)
    assert caught.value.messages[0].startswith("第3行")
    assert _days(2027) == before
    assert OfficialCalendarYear.objects.get(year=2027).source == "2027.csv"
    assert len(_events(tenant_of, world.a.tenant)) == 1


def test_a_file_for_a_year_not_loaded_yet_leaves_no_row_when_refused(db, operator):
    with pytest.raises(CalendarFileError):
        official_calendar_load(year=2027, data=b"2027-02-30,holiday,x\n", source="bad.csv", actor=operator)
    assert not OfficialCalendarYear.objects.filter(year=2027).exists()


def test_only_the_platform_operator_loads_the_calendar(world, tenant_of):
    for role in (Role.TENANT_ADMIN, Role.DISTRICT_STAFF):
        with tenant_of(world.a.tenant), pytest.raises(PermissionDenied):
            official_calendar_load(year=2027, data=FICTIONAL, source="2027.csv", actor=world.a.users[role])
    assert not OfficialCalendarYear.objects.filter(year=2027).exists()


def test_the_command_loads_a_file_and_reports_a_bad_one_by_line(world, tenant_of, tmp_path):
    path = tmp_path / "2027.csv"
    path.write_bytes(FICTIONAL)
    out = io.StringIO()
    call_command("load_official_calendar", "--year", "2027", "--file", str(path), stdout=out)
    assert "2027: 3 holidays, 1 adjusted working days loaded" in out.getvalue()
    [event] = _events(tenant_of, world.a.tenant)
    assert (event.actor_label, event.source) == ("load_official_calendar", "command")
    call_command("load_official_calendar", "--year", "2027", "--file", str(path), stdout=out)
    assert "unchanged" in out.getvalue()
    path.write_text("date,kind,name\n2027-01-26,holiday,虚构节\n2027-1-32,holiday,虚构节\n", encoding="utf-8")
    with translation.override("zh-hans"), pytest.raises(CommandError, match="第3行"):
        call_command("load_official_calendar", "--year", "2027", "--file", str(path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="--year"):
        call_command("load_official_calendar", "--file", str(path), stdout=io.StringIO())
    assert len(_events(tenant_of, world.a.tenant)) == 1


def test_the_command_adds_a_new_library_release_s_years_and_refuses_a_year_it_does_not_know(db):
    out = io.StringIO()
    call_command("load_official_calendar", "--from-library", stdout=out)
    assert "Nothing to load" in out.getvalue()  # the migration loaded every year 1.11.0 knows
    call_command("load_official_calendar", "--from-library", "2026", stdout=out)
    assert "2026: 33 holidays, 6 adjusted working days unchanged" in out.getvalue()
    with pytest.raises(CommandError, match="2027"):
        call_command("load_official_calendar", "--from-library", "2027", stdout=io.StringIO())


def test_the_library_fills_in_only_years_nobody_loaded_unless_a_year_is_named(db, operator):
    OfficialCalendarYear.objects.filter(year__in=[2024, 2025]).delete()  # as if a new release added them
    corrected_2026 = "date,kind,name\n2026-10-01,holiday,国庆节\n"
    official_calendar_load(year=2026, data=corrected_2026.encode(), source="2026-corrected.csv", actor=operator)
    loads = official_calendar_load_library()
    assert [load.year for load in loads] == [2024, 2025]
    assert OfficialCalendarYear.objects.get(year=2026).source == "2026-corrected.csv"  # the operator's file stays
    [load] = official_calendar_load_library(years=[2026])
    assert load.changed
    assert OfficialCalendarYear.objects.get(year=2026).source == SOURCE
