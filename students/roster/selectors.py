"""Reads of the roster import: the imports a user may follow."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from schools.models import Job

from .services import JOB_KIND


def roster_job_list(*, user: Any, limit: int = 10) -> QuerySet[Job]:
    """The latest roster imports the user may see (their own; all of them for auditors), newest first."""
    return Job.objects.visible_to(user).filter(kind=JOB_KIND).order_by("-created_at", "-pk")[:limit]
