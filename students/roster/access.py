"""Permission-checked lookups of the roster import: a job and its row report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404

from schools.access import get_visible
from schools.models import Job

from .report import ROWS_SHEET
from .services import JOB_KIND


def roster_job_get_for_user(*, user: Any, pk: Any) -> Job:
    """A roster import job the user may see (who started it, or an auditor); 404 otherwise."""
    job = get_visible(Job, user=user, pk=pk)
    if job.kind != JOB_KIND:
        raise Http404
    return job


def roster_report_get_for_user(*, user: Any, pk: Any) -> tuple[Path, str]:
    """(path, download name) of a job's row report, if the user may see the job and the report exists;
    404 otherwise. The path must lie in the job's own folder: a job's result never points elsewhere."""
    job = roster_job_get_for_user(user=user, pk=pk)
    relative = (job.result or {}).get("report")
    if not relative:
        raise Http404
    root = (Path(settings.MEDIA_ROOT) / "roster" / str(job.tenant_id) / str(job.pk)).resolve()
    path = (Path(settings.MEDIA_ROOT) / relative).resolve()
    if path.parent != root or not path.is_file():
        raise Http404
    name = Path(job.params.get("name") or "roster.xlsx").stem
    return path, f"{name}-{ROWS_SHEET}.xlsx"
