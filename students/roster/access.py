"""Permission-checked lookups of the roster import: a job's row report (the job itself:
schools.access.job_get_for_user)."""

from __future__ import annotations

from typing import Any

from schools.access import job_report_get_for_user

from .report import ROWS_SHEET
from .services import JOB_KIND, job_folder


def roster_report_get_for_user(*, user: Any, pk: Any) -> tuple[str, str]:
    """(stored name, download name) of a roster import's row report; 404 unless the user may see it."""
    return job_report_get_for_user(
        user=user, pk=pk, kind=JOB_KIND, folder=job_folder, default_name="roster.xlsx", suffix=ROWS_SHEET
    )
