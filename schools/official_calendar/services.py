"""Writes of the official calendar: loading a year, and the daily check for a year due and missing.

The calendar is a global table, but a change of it concerns every district (their publicity periods
are counted on it), so each change is recorded in every tenant's audit trail, the way the platform
operator's other work on global rows (tenant creation, published notices) is recorded: who, when,
which year, how many days, the file's SHA-256.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import trail
from core.tenancy.context import tenant_transaction

from .. import permissions
from ..models import OfficialCalendarDay, OfficialCalendarYear, Tenant
from ..permissions import Action
from .files import CalendarFile, read_calendar_file
from .library import SOURCE, library_file, library_years
from .selectors import years_due_and_missing

logger = logging.getLogger(__name__)

MSG_NOT_IN_LIBRARY = _("%(source)s does not know %(year)s (it knows %(first)s–%(last)s).")
OBJECT_TYPE = trail.object_type(OfficialCalendarYear)


@dataclass(frozen=True)
class CalendarLoad:
    """What loading a year did: `changed` is false when the year already had exactly these days."""

    year: int
    holidays: int
    workdays: int
    sha256: str
    changed: bool


def _record_everywhere(*, action: str, year: int, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    """One audit event in each tenant's trail (each tenant's chain is appended to in its own setting)."""
    for tenant_id in Tenant.objects.order_by("pk").values_list("pk", flat=True):
        with tenant_transaction(tenant_id):
            trail.record(
                tenant_id=tenant_id, action=action, object_type_=OBJECT_TYPE, object_id=str(year),
                before=before, after=after,
            )  # fmt: skip


def _summary(row: OfficialCalendarYear) -> dict[str, Any]:
    return {
        "year": row.year,
        "holidays": row.holiday_count,
        "workdays": row.workday_count,
        "days": row.holiday_count + row.workday_count,
        "sha256": row.sha256,
        "source": row.source,
    }


def _loaded_days(row: OfficialCalendarYear) -> set[tuple[dt.date, str, str]]:
    return set(OfficialCalendarDay.objects.filter(calendar_year=row).values_list("date", "kind", "name"))


def official_calendar_load(*, year: int, data: bytes, source: str, actor: Any = None) -> CalendarLoad:
    """法定节假日安排导入: replace `year` of the national calendar with the file's days, all or nothing.

    The file is checked whole first (CalendarFileError lists every bad line; nothing changes). The
    same days again change nothing and record nothing. `actor` is the platform operator on the page;
    None from the command line (trusted, like create_tenant), which names itself as the audit actor.
    """
    if actor is not None:
        permissions.require(actor, Action.CALENDAR_MANAGE)
    parsed: CalendarFile = read_calendar_file(data, year=year)
    with transaction.atomic():
        OfficialCalendarYear.objects.get_or_create(year=year)
        row = OfficialCalendarYear.objects.select_for_update().get(year=year)
        result = CalendarLoad(
            year=year, holidays=parsed.holidays, workdays=parsed.workdays, sha256=parsed.sha256, changed=True
        )
        if row.is_loaded and _loaded_days(row) == parsed.days():
            return dataclasses.replace(result, changed=False)  # the same file again: idempotent
        before = _summary(row) if row.is_loaded else None
        row.is_loaded, row.source, row.sha256 = True, source[:100], parsed.sha256
        row.holiday_count, row.workday_count = parsed.holidays, parsed.workdays
        row.loaded_at, row.loaded_by = timezone.now(), actor
        row.save(
            update_fields=["is_loaded", "source", "sha256", "holiday_count", "workday_count", "loaded_at", "loaded_by"]
        )
        OfficialCalendarDay.objects.filter(calendar_year=row).delete()
        OfficialCalendarDay.objects.bulk_create(
            [OfficialCalendarDay(calendar_year=row, date=r.date, kind=r.kind, name=r.name) for r in parsed.rows]
        )
        _record_everywhere(action="calendar.load", year=year, before=before, after=_summary(row))
    return result


def official_calendar_load_library(*, years: Iterable[int] | None = None, actor: Any = None) -> list[CalendarLoad]:
    """Load years from the installed chinesecalendar package: the named ones (replacing what is loaded),
    or, with none named, every year it knows that is not loaded yet (a year loaded from the State
    Council's file is never overwritten by the package unless it is named)."""
    known = library_years()
    if years is None:
        loaded = set(OfficialCalendarYear.objects.filter(is_loaded=True).values_list("year", flat=True))
        years = [year for year in known if year not in loaded]
    files = {year: library_file(year) for year in sorted(set(years))}
    for year, data in files.items():
        if data is None:
            raise ValidationError(
                MSG_NOT_IN_LIBRARY % {"source": SOURCE, "year": year, "first": known[0], "last": known[-1]}
            )
    with transaction.atomic():
        return [
            official_calendar_load(year=year, data=data, source=SOURCE, actor=actor)
            for year, data in files.items()
            if data is not None
        ]


def official_calendar_check(*, today: dt.date) -> list[int]:
    """The daily check (Celery beat): the years due and not loaded, each logged as a warning every day,
    and recorded once: a year row marked missing since `today`, with an audit event in every tenant's
    trail. Nothing is written while nothing new is missing."""
    missing = years_due_and_missing(today=today)
    for year in missing:
        logger.warning(
            "the official calendar of %s is not loaded: working-day deadlines reaching into it are refused "
            "until the platform operator loads the State Council's schedule",
            year,
        )
        with transaction.atomic():
            OfficialCalendarYear.objects.get_or_create(year=year)
            row = OfficialCalendarYear.objects.select_for_update().get(year=year)
            if row.is_loaded or row.missing_since is not None:
                continue
            row.missing_since = today
            row.save(update_fields=["missing_since"])
            _record_everywhere(
                action="calendar.missing", year=year, before=None, after={"year": year, "missing_since": today}
            )
    return missing
