"""What the money asks of people: lists to approve, batches waiting for a school's check or the bank,
corrections waiting for a second person, recoveries still open."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.worklist import WorkItem
from funding.models import AwardList, AwardListStatus
from schools import permissions
from schools.models import School
from schools.permissions import Action

from .models import Batch, BatchStatus, Correction, CorrectionStatus, LineStatus, PaymentLine, Recovery, RecoveryStatus


def money_items(user: Any) -> list[WorkItem]:
    if not permissions.can(user, Action.FUNDING_VIEW):
        return []
    items: list[WorkItem] = []
    if permissions.can(user, Action.AWARD_APPROVE):
        ready = AwardList.objects.visible_to(user, Action.AWARD_APPROVE).filter(
            status=AwardListStatus.PUBLICITY, ends_on__lt=timezone.localdate()
        )
        if n := ready.count():
            items.append(
                WorkItem(
                    label=_("Award lists to approve"),
                    count=n,
                    url=reverse("funding:award_lists") + f"?status={AwardListStatus.PUBLICITY}&ended=1",
                )
            )
    if permissions.can(user, Action.ENROLLMENT_CONFIRM):
        schools = School.objects.visible_to(user, Action.ENROLLMENT_CONFIRM).values("pk")
        waiting = (
            PaymentLine.objects.visible_to(user)
            .filter(batch__status=BatchStatus.FROZEN, status=LineStatus.PENDING, school_id__in=schools)
            .exclude(batch__confirmations__school_id=F("school_id"))
            .values("batch_id")
            .distinct()
            .count()
        )
        if waiting:
            items.append(
                WorkItem(
                    label=_("Batches waiting for your enrollment check"),
                    count=waiting,
                    url=reverse("disbursements:batches") + f"?status={BatchStatus.FROZEN}",
                    hint=_("confirm your pupils on them still attend"),
                )
            )
    if permissions.can(user, Action.BATCH_MANAGE):
        released = Batch.objects.visible_to(user).filter(status=BatchStatus.RELEASED).count()
        if released:
            items.append(
                WorkItem(
                    label=_("Batches waiting for the bank's return"),
                    count=released,
                    url=reverse("disbursements:batches") + f"?status={BatchStatus.RELEASED}",
                )
            )
    if permissions.can(user, Action.CORRECTION_APPROVE):
        proposed = (
            Correction.objects.visible_to(user).filter(status=CorrectionStatus.PROPOSED).exclude(proposed_by=user)
        )
        if n := proposed.count():
            items.append(
                WorkItem(
                    label=_("Corrections to approve"),
                    count=n,
                    url=reverse("disbursements:corrections") + f"?status={CorrectionStatus.PROPOSED}&others=1",
                )
            )
    if permissions.can(user, Action.CORRECTION_PROPOSE):
        open_cases = Recovery.objects.visible_to(user).filter(status=RecoveryStatus.OPEN).count()
        if open_cases:
            items.append(
                WorkItem(
                    label=_("Open recovery cases"),
                    count=open_cases,
                    url=reverse("disbursements:corrections") + f"?recovery={RecoveryStatus.OPEN}",
                    kind="info",
                )
            )
    return items
