"""动态调整: a family's situation changes mid-year, and the identified tier with it.

A shorter review than the full chain: the school proposes (with the reason), the district decides.
The application keeps its history: every adjustment stays, and the decision rows tell the story.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from core.audit import trail
from schools import permissions
from schools.permissions import Action

from ..models import (
    ApplicationDecision,
    ApplicationStatus,
    Decision,
    HardshipApplication,
    Tier,
    TierAdjustment,
    TierAdjustmentStatus,
)
from .summary import identified_summary_touch
from .workflow import WorkflowError


def tier_adjust_propose(*, actor: Any, application: HardshipApplication, to_tier: str, reason: str) -> TierAdjustment:
    """The school proposes a new tier for an identified student."""
    Tier(to_tier)
    if not reason.strip():
        raise WorkflowError(_("Say what changed in the family's situation."))
    with transaction.atomic():
        app = HardshipApplication.objects.select_for_update().get(pk=application.pk)
        permissions.require(actor, Action.TIER_ADJUST_PROPOSE, app)
        if app.status != ApplicationStatus.IDENTIFIED:
            raise WorkflowError(_("Only an identified student's tier can be adjusted."))
        if to_tier == app.tier:
            raise WorkflowError(_("That is already the student's tier."))
        try:
            with transaction.atomic():
                return TierAdjustment.objects.create(
                    application=app, from_tier=app.tier, to_tier=to_tier, reason=reason, proposed_by=actor
                )
        except IntegrityError:
            raise WorkflowError(_("An adjustment of this student is already waiting for the district.")) from None


def tier_adjust_decide(*, actor: Any, adjustment: TierAdjustment, approve: bool, reason: str = "") -> TierAdjustment:
    """The district approves (the tier changes from today, history kept) or rejects the proposal."""
    with transaction.atomic():
        adj = TierAdjustment.objects.select_for_update().get(pk=adjustment.pk)
        permissions.require(actor, Action.TIER_ADJUST_DECIDE, adj)
        if adj.status != TierAdjustmentStatus.PROPOSED:
            raise WorkflowError(_("This adjustment has already been decided."))
        if not approve and not reason.strip():
            raise WorkflowError(_("Say why the adjustment is refused."))
        adj.approve() if approve else adj.reject()
        adj.decided_by, adj.decision_reason = actor, reason
        with trail.labelled("tier.adjust_approve" if approve else "tier.adjust_reject", reason):
            adj.save(update_fields=["status", "decided_by", "decision_reason", "updated_at"])
        if approve:
            app = HardshipApplication.objects.select_for_update().get(pk=adj.application_id)
            with trail.labelled("application.tier_adjusted", adj.reason):
                app.tier = adj.to_tier
                app.save(update_fields=["tier", "updated_at"])
                ApplicationDecision.objects.create(
                    application=app,
                    decision=Decision.TIER_ADJUSTED,
                    from_status=app.status,
                    to_status=app.status,
                    tier=adj.to_tier,
                    reason=adj.reason,
                    actor=actor,
                )
            identified_summary_touch(applications=[app])
    return adj
