"""What the register asks of the people responsible for pupils."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from core.worklist import WorkItem
from schools import permissions
from schools.permissions import Action, Role

from .models import EnrollmentStatus, Student

#: Who follows up a pupil who dropped out (控辍保学): the teachers and school leaders who talk to the
#: family, and those who correct the register. Not the auditor, who sees the register but acts on none
#: of it: the home page lists only work its reader can do.
FOLLOWS_UP_DROPOUTS = frozenset(
    {Role.CLASS_TEACHER, Role.GRADE_LEADER, Role.SCHOOL_OFFICER, Role.PRINCIPAL, Role.DISTRICT_STAFF}
)


def register_items(user: Any) -> list[WorkItem]:
    """Pupils who left school in the user's units: dropping out ends funding, and each needs follow-up
    from someone responsible for them."""
    if not permissions.can(user, Action.STUDENT_VIEW) or not permissions.roles_of(user) & FOLLOWS_UP_DROPOUTS:
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


def identification_items(user: Any) -> list[WorkItem]:
    """Applications at the user's step, lists waiting for a signature or a publication, objections to
    answer, adjustments to decide."""
    from .identification import selectors
    from .models import ApplicationStatus, Objection, ObjectionStatus, Publicity, PublicityStatus

    if not permissions.can(user, Action.APPLICATION_VIEW):
        return []
    items = []
    waiting = selectors.waiting_for(user=user).count()
    if waiting:
        items.append(
            WorkItem(
                label=_("Applications waiting for your review"), count=waiting, url=reverse("students:applications")
            )
        )
    if permissions.can(user, Action.PUBLICITY_MANAGE):
        ready = (
            selectors.application_list(user=user, status=ApplicationStatus.SCHOOL_APPROVED)
            .exclude(publicity_entries__publicity__status__in=[PublicityStatus.DRAFT, PublicityStatus.SIGNED])
            .count()
        )
        if ready:
            items.append(
                WorkItem(
                    label=_("Approved, waiting for a publicity list"), count=ready, url=reverse("students:publicities")
                )
            )
        to_publish = (
            Publicity.objects.visible_to(user, Action.PUBLICITY_MANAGE).filter(status=PublicityStatus.SIGNED).count()
        )
        if to_publish:
            items.append(
                WorkItem(label=_("Signed lists to publish"), count=to_publish, url=reverse("students:publicities"))
            )
        objections = (
            Objection.objects.visible_to(user, Action.PUBLICITY_MANAGE).filter(status=ObjectionStatus.OPEN).count()
        )
        if objections:
            items.append(
                WorkItem(label=_("Objections to answer"), count=objections, url=reverse("students:publicities"))
            )
    to_sign = selectors.lists_to_sign(user=user).count()
    if to_sign:
        items.append(
            WorkItem(label=_("Lists waiting for your signature"), count=to_sign, url=reverse("students:publicities"))
        )
    adjustments = selectors.adjustments_to_decide(user=user).count()
    if adjustments:
        items.append(
            WorkItem(label=_("Tier adjustments to decide"), count=adjustments, url=reverse("students:applications"))
        )
    return items
