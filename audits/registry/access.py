"""Permission-checked lookups of the registry pages: an import job, its row report, a mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404

from schools.access import get_visible
from schools.models import Job

from ..models import ColumnMapping
from .jobs import JOB_KIND, job_folder


def registry_job_get_for_user(*, user: Any, pk: Any) -> Job:
    """A registry import job the user may see (who started it, or an auditor); 404 otherwise."""
    job = get_visible(Job, user=user, pk=pk)
    if job.kind != JOB_KIND:
        raise Http404
    return job


def registry_report_get_for_user(*, user: Any, pk: Any) -> tuple[Path, str]:
    """(path, download name) of an import's row report, if the user may see the job and the report
    exists; 404 otherwise. The path must lie in the job's own folder."""
    job = registry_job_get_for_user(user=user, pk=pk)
    relative = (job.result or {}).get("report")
    if not relative:
        raise Http404
    path = (Path(settings.MEDIA_ROOT) / relative).resolve()
    if path.parent != job_folder(job).resolve() or not path.is_file():
        raise Http404
    name = Path(job.params.get("name") or "registry").stem
    return path, f"{name}-问题行.xlsx"


def mapping_get_for_user(*, user: Any, pk: Any) -> ColumnMapping:
    return get_visible(ColumnMapping, user=user, pk=pk)
