"""Permission-checked lookups of the money's rows: one object for one user, or 404 (403 when visible
but the action is not allowed)."""

from __future__ import annotations

from typing import Any

from funding.models import Award
from schools.access import get_visible
from schools.permissions import Action

from .models import Batch, Correction, Recovery


def batch_get_for_user(*, user: Any, pk: Any, action: Action | None = None) -> Batch:
    return get_visible(Batch, user=user, pk=pk, action=action)


def correction_get_for_user(*, user: Any, pk: Any, action: Action | None = None) -> Correction:
    return get_visible(Correction, user=user, pk=pk, action=action)


def recovery_get_for_user(*, user: Any, pk: Any, action: Action | None = None) -> Recovery:
    return get_visible(Recovery, user=user, pk=pk, action=action)


def award_get_for_correction(*, user: Any, pk: Any) -> Award:
    """An award the user may propose to stop or recover."""
    return get_visible(Award, user=user, pk=pk, action=Action.CORRECTION_PROPOSE)
