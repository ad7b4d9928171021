"""The periodic reports (月调度、季汇总、半年通报): make a snapshot of the district's figures, now (a job
with a progress bar, started from the page or the API) or on schedule (the beat task, on the first
working day of the tenant's calendar after a period ends). A snapshot is written once and never changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import clock
from core.audit import trail
from core.tenancy.context import tenant_transaction
from funding.models import Semester
from schools import jobs, permissions
from schools.models import Job, JobStatus, User
from schools.permissions import Action
from schools.workdays import CalendarYearNotLoaded, is_working_day

from .models import ReportKind, ReportSnapshot
from .selectors import dashboard

REPORT_JOB_KIND = "oversight.report"
MSG_NO_SEMESTER = gettext_lazy("No semester starts before the end of this period: there is nothing to report.")


@dataclass(frozen=True)
class Period:
    label: str  # 2026-11, 2026-Q4, 2026-H2
    start: dt.date
    end: dt.date


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def period_containing(kind: str, day: dt.date) -> Period:
    """The report period of `kind` that contains `day`."""
    if kind == ReportKind.MONTHLY:
        return Period(f"{day.year}-{day.month:02d}", day.replace(day=1), _month_end(day.year, day.month))
    size = 3 if kind == ReportKind.QUARTERLY else 6
    index = (day.month - 1) // size
    first = index * size + 1
    label = f"{day.year}-Q{index + 1}" if size == 3 else f"{day.year}-H{index + 1}"
    return Period(label, dt.date(day.year, first, 1), _month_end(day.year, first + size - 1))


def period_last_complete(kind: str, today: dt.date) -> Period:
    """The latest period of `kind` that ended before `today`."""
    return period_containing(kind, period_containing(kind, today).start - dt.timedelta(days=1))


def fingerprint(figures: dict[str, Any]) -> str:
    """SHA-256 of the figures' canonical JSON: the seal an auditor checks a snapshot against."""
    text = json.dumps(figures, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _semester_for(*, actor: Any, day: dt.date) -> Semester:
    semester = (
        Semester.objects.visible_to(actor, Action.REPORT_GENERATE)
        .filter(starts_on__lte=day)
        .order_by("-starts_on", "pk")
        .first()
    )
    if semester is None:
        raise ValidationError(str(MSG_NO_SEMESTER))
    return semester


def report_generate(*, actor: Any, kind: str, period: Period, scheduled: bool = False) -> ReportSnapshot:
    """Freeze the district's figures for `period` (those of the semester the period ends in, with the one
    before) into a new snapshot, audited. A scheduled one exists once per report and period: a second
    call returns the first."""
    permissions.require(actor, Action.REPORT_GENERATE)
    kind = ReportKind(kind)
    semester = _semester_for(actor=actor, day=period.end)
    board = dashboard(user=actor, semester=semester, action=Action.REPORT_GENERATE)
    figures = {"kind": kind.value, "period": period.label, **board.as_json()}
    snapshot = ReportSnapshot(
        kind=kind,
        period=period.label,
        period_start=period.start,
        period_end=period.end,
        semester=semester,
        figures=figures,
        fingerprint=fingerprint(figures),
        scheduled=scheduled,
        generated_by=actor,
    )
    try:
        with transaction.atomic(), trail.labelled("oversight.report_generate"):
            snapshot.save()
    except IntegrityError:
        if not scheduled:
            raise
        return ReportSnapshot.objects.get(kind=kind, period=period.label, scheduled=True)
    return snapshot


def reports_due(*, actor: Any, today: dt.date | None = None) -> list[ReportSnapshot]:
    """The beat task's work in one tenant: on a working day of the tenant's calendar, the scheduled
    snapshot of each report whose last complete period has none yet (so a day missed is caught up on the
    next working day). Idempotent."""
    today = today or clock.today()
    try:
        working = is_working_day(today)
    except CalendarYearNotLoaded:
        working = today.weekday() < 5  # the year's official calendar is missing (the check warns): weekdays
    if not working:
        return []
    made = []
    for kind in ReportKind:
        period = period_last_complete(kind, today)
        if ReportSnapshot.objects.filter(kind=kind, period=period.label, scheduled=True).exists():
            continue
        try:
            made.append(report_generate(actor=actor, kind=kind, period=period, scheduled=True))
        except ValidationError:
            continue  # no semester yet: nothing to report
    return made


def report_generate_start(*, actor: Any, kind: str) -> Job:
    """Queue a snapshot of the period so far (the page's button): a background job with a progress bar.
    A second click while one of the same report waits or runs gets that job."""
    from .tasks import report_generate_task

    permissions.require(actor, Action.REPORT_GENERATE)
    kind = ReportKind(kind)
    pending = (
        Job.objects.filter(
            kind=REPORT_JOB_KIND, status__in=[JobStatus.QUEUED, JobStatus.RUNNING], params__kind=kind.value
        )
        .order_by("created_at", "pk")
        .first()
    )
    if pending is not None:
        return pending
    return jobs.job_start(kind=REPORT_JOB_KIND, actor=actor, task=report_generate_task, params={"kind": kind.value})


def report_generate_job_run(*, job: Job) -> tuple[dict[str, Any], str]:
    """The job's work, as the person who started it: the period so far, up to today, in one transaction."""
    with tenant_transaction(job.tenant_id):
        actor = User.objects.get(pk=job.actor_id)
        jobs.job_progress(job, done=0, total=1, message="")
        today = clock.today()
        start = period_containing(job.params["kind"], today)
        period = Period(start.label, start.start, today)
        try:
            snapshot = report_generate(actor=actor, kind=job.params["kind"], period=period)
        except ValidationError as exc:
            message = "；".join(exc.messages)
            return {"refused": message}, message
        jobs.job_progress(job, done=1, total=1, message="")
    return {"snapshot": str(snapshot.pk)}, _("Report %(name)s made.") % {"name": str(snapshot)}
