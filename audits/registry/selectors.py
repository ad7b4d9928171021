"""Reads of the registry pages: snapshots, column mappings, recent imports."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from schools.models import Job

from ..models import ColumnMapping, RegistrySnapshot
from .jobs import JOB_KIND


def snapshot_list(*, user: Any) -> QuerySet[RegistrySnapshot]:
    """Every snapshot the user may see, by source, newest first within a source."""
    return (
        RegistrySnapshot.objects.visible_to(user)
        .select_related("mapping", "imported_by")
        .order_by("source", "-taken_on", "-created_at", "pk")
    )


def mapping_list(*, user: Any) -> QuerySet[ColumnMapping]:
    return ColumnMapping.objects.visible_to(user).order_by("source", "name", "pk")


def registry_job_list(*, user: Any, limit: int = 10) -> QuerySet[Job]:
    """The latest registry imports the user may see (their own; all of them for auditors)."""
    return Job.objects.visible_to(user).filter(kind=JOB_KIND).order_by("-created_at", "-pk")[:limit]
