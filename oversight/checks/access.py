"""One sample, sampled line or follow-up for one user, or 404 (another tenant's, or another school's,
answers exactly like a missing one); 403 when the user sees it but may not do the action."""

from __future__ import annotations

from typing import Any

from schools.access import get_visible
from schools.permissions import Action

from .models import CheckFollowUp, SpotCheck, SpotCheckLine


def sample_get_for_user(*, user: Any, pk: Any) -> SpotCheck:
    return get_visible(SpotCheck, user=user, pk=pk)


def check_line_get_for_user(*, user: Any, pk: Any, action: Action | None = None) -> SpotCheckLine:
    return get_visible(SpotCheckLine, user=user, pk=pk, action=action)


def follow_up_get_for_user(*, user: Any, pk: Any, action: Action | None = None) -> CheckFollowUp:
    return get_visible(CheckFollowUp, user=user, pk=pk, action=action)
