"""What the post-payment checks ask of people: the school's officer asks the sampled families; the
district settles the discrepancies found."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from core.worklist import WorkItem
from schools import permissions
from schools.permissions import Action

from . import selectors


def check_items(user: Any) -> list[WorkItem]:
    items: list[WorkItem] = []
    url = reverse("oversight:checks")
    if permissions.can(user, Action.SPOT_CHECK_RECORD) and (n := selectors.pending_count(user=user)):
        items.append(
            WorkItem(
                label=_("Post-payment checks to record"),
                count=n,
                url=f"{url}#samples",  # each sample's lines still to check, per school
                hint=_("ask the sampled families whether the money arrived in full and on time"),
            )
        )
    if permissions.can(user, Action.SPOT_CHECK_RESOLVE) and (
        n := selectors.open_follow_ups(user=user, action=Action.SPOT_CHECK_RESOLVE).count()
    ):
        items.append(WorkItem(label=_("Post-payment discrepancies to settle"), count=n, url=f"{url}#follow-ups"))
    return items
