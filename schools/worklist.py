"""What the school structure asks of people: accounts without a role, schools without an officer."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from core.worklist import WorkItem

from . import permissions
from .models import Role, RoleAssignment, School, User
from .permissions import Action


def structure_items(user: Any) -> list[WorkItem]:
    if not permissions.can(user, Action.USER_MANAGE):
        return []
    items = []
    roleless = (
        User.objects.visible_to(user)
        .filter(is_active=True, is_system=False)
        .exclude(pk__in=RoleAssignment.objects.visible_to(user).values("user_id"))
        .count()
    )
    if roleless:
        items.append(
            WorkItem(
                label=_("Accounts without a role"),
                count=roleless,
                url=reverse("admin:schools_user_changelist"),
                hint=_("they can sign in but see nothing"),
            )
        )
    staffed = RoleAssignment.objects.visible_to(user).filter(role=Role.SCHOOL_OFFICER).values("school_id")
    unstaffed = School.objects.visible_to(user).filter(is_active=True).exclude(pk__in=staffed).count()
    if unstaffed:
        items.append(
            WorkItem(
                label=_("Schools without a funding officer"),
                count=unstaffed,
                url=reverse("admin:schools_school_changelist"),
                hint=_("nobody can review their lists"),
            )
        )
    return items
