"""Reads of the registry pages: snapshots, column mappings, recent imports."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ..models import ColumnMapping, RegistrySnapshot


def snapshot_list(*, user: Any) -> QuerySet[RegistrySnapshot]:
    """Every snapshot the user may see, by source, newest first within a source."""
    return (
        RegistrySnapshot.objects.visible_to(user)
        .select_related("mapping", "imported_by")
        .order_by("source", "-taken_on", "-created_at", "pk")
    )


def mapping_list(*, user: Any) -> QuerySet[ColumnMapping]:
    return ColumnMapping.objects.visible_to(user).order_by("source", "name", "pk")
