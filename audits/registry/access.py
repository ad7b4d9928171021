"""Permission-checked lookups of the registry pages: an import job, its row report, a mapping."""

from __future__ import annotations

from typing import Any

from schools.access import get_visible, job_report_get_for_user

from ..models import ColumnMapping
from .jobs import JOB_KIND, job_folder


def registry_report_get_for_user(*, user: Any, pk: Any) -> tuple[str, str]:
    """(stored name, download name) of an import's row report, if the user may see the job and the report
    exists; 404 otherwise. The path must lie in the job's own folder."""
    return job_report_get_for_user(
        user=user, pk=pk, kind=JOB_KIND, folder=job_folder, default_name="registry", suffix="问题行"
    )


def mapping_get_for_user(*, user: Any, pk: Any) -> ColumnMapping:
    return get_visible(ColumnMapping, user=user, pk=pk)
