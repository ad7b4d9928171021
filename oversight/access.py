"""Permission-checked lookups of the reports: one snapshot for one user, or 404. Another tenant's
snapshot answers exactly like a missing one."""

from __future__ import annotations

from typing import Any

from schools.access import get_visible

from .models import ReportSnapshot


def snapshot_get_for_user(*, user: Any, pk: Any) -> ReportSnapshot:
    return get_visible(ReportSnapshot, user=user, pk=pk)
