"""Permission-checked lookups of the roster import: a job's row report (the job itself:
schools.access.job_get_for_user)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from schools.access import job_report_get_for_user

from .report import ROWS_SHEET
from .services import JOB_KIND


def _folder(job: Any) -> Path:
    return Path(settings.MEDIA_ROOT) / "roster" / str(job.tenant_id) / str(job.pk)


def roster_report_get_for_user(*, user: Any, pk: Any) -> tuple[Path, str]:
    """(path, download name) of a roster import's row report; 404 unless the user may see it."""
    return job_report_get_for_user(
        user=user, pk=pk, kind=JOB_KIND, folder=_folder, default_name="roster.xlsx", suffix=ROWS_SHEET
    )
