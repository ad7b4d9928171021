"""Permission-checked lookups of dropout control: one object for one user, or 404 (403 when visible but
the action is not allowed). Another tenant's case answers exactly like a missing one."""

from __future__ import annotations

from typing import Any

from schools.access import get_visible
from schools.permissions import Action

from .models import DropoutCase


def case_get_for_user(*, user: Any, pk: Any, action: Action | None = None) -> DropoutCase:
    return get_visible(DropoutCase, user=user, pk=pk, action=action)
