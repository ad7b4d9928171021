"""Scheduled work of the platform: the daily check of the official calendar; the sweep of lost jobs."""

from __future__ import annotations

from celery import shared_task

from core import clock
from core.audit import trail

from . import jobs
from .official_calendar.services import official_calendar_check


@shared_task(name="schools.check_official_calendar")
def check_official_calendar() -> list[int]:
    """Daily (Celery beat): while a year's official calendar is due (this year; next year from
    1 November) and not loaded, log a warning every day and record it once (idempotent)."""
    with trail.acting_as(trail.Actor(user_id=None, label="check_official_calendar", source="task")):
        return official_calendar_check(today=clock.today())


@shared_task(name="schools.sweep_jobs")
def sweep_jobs() -> int:
    """Every 30 s (Celery beat): send again the task of every tenant's jobs whose worker died (silent for
    jobs.STALE_AFTER); returns how many. Idempotent: each job's claim decides whether it runs."""
    with trail.acting_as(trail.Actor(user_id=None, label="sweep_jobs", source="task")):
        return len(jobs.jobs_sweep())
