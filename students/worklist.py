"""What the register asks of the people responsible for pupils."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from funding.infra.worklist import WorkItem
from schools import permissions
from schools.permissions import Action

from .models import EnrollmentStatus, Student


def register_items(user: Any) -> list[WorkItem]:
    """Pupils who left school in the user's units: dropping out ends funding, and each needs follow-up."""
    if not permissions.can(user, Action.STUDENT_VIEW):
        return []
    dropped = Student.objects.visible_to(user).filter(enrollment_status=EnrollmentStatus.DROPPED_OUT).count()
    if not dropped:
        return []
    return [
        WorkItem(
            label=_("Pupils recorded as dropped out"),
            count=dropped,
            url=reverse("students:list") + f"?status={EnrollmentStatus.DROPPED_OUT}",
            hint=_("persuade them back; their funding stops"),
        )
    ]
