"""纠错: stop (停发) an award found wrong before it is paid, recover (追回) one already paid, and
reverse a correction that was itself wrong. Each is proposed with its reason and evidence and takes
effect only when a second person approves it (never the one who proposed it)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from core import workflow
from core.audit import trail
from funding.models import Award, AwardStatus
from funding.services.awards import award_reinstate, award_stop
from schools import permissions
from schools.permissions import Action

from ..batch_summary import batch_summary_refresh
from ..models import (
    Correction,
    CorrectionKind,
    CorrectionStatus,
    LineStatus,
    PaymentLine,
    Recovery,
    RecoveryStatus,
)
from ..summary import refresh_awards

MSG_FOUR_EYES = _("A correction is approved by someone other than the person who proposed it.")
MSG_IN_FLIGHT = _("The payment is at the bank: wait for its return, then stop or recover.")
MSG_OPEN = _("A correction of this award is already waiting for approval.")


def correction_propose(*, actor: Any, award: Award, reason: str, evidence: str = "") -> Correction:
    """Propose to stop the award (not paid yet) or recover it (paid): which one follows from its lines."""
    if not reason.strip():
        raise ValidationError(_("Say why the award is wrong."))
    with transaction.atomic():
        award = Award.objects.select_for_update().get(pk=award.pk)
        permissions.require(actor, Action.CORRECTION_PROPOSE, award)
        if award.status != AwardStatus.APPROVED:
            raise ValidationError(_("Only an approved award can be stopped or recovered."))
        lines = list(PaymentLine.objects.filter(award=award).order_by("created_at"))
        paid = next((line for line in lines if line.status == LineStatus.PAID), None)
        if paid is None and any(line.status == LineStatus.EXPORTED for line in lines):
            raise ValidationError(MSG_IN_FLIGHT)
        kind = CorrectionKind.RECOVER if paid else CorrectionKind.STOP
        try:
            with transaction.atomic(), trail.labelled(f"correction.propose_{kind.lower()}", reason):
                return Correction.objects.create(
                    kind=kind,
                    award=award,
                    line=paid or next((line for line in lines if line.status == LineStatus.PENDING), None),
                    school_id=award.school_id,
                    amount=paid.amount if paid else award.amount,
                    reason=reason,
                    evidence=evidence,
                    proposed_by=actor,
                )
        except IntegrityError:
            raise ValidationError(MSG_OPEN) from None


def correction_reverse_propose(*, actor: Any, correction: Correction, reason: str) -> Correction:
    """The correction was wrong: propose to undo it (with approval, like any correction)."""
    if not reason.strip():
        raise ValidationError(_("Say why the correction was wrong."))
    with transaction.atomic():
        target = Correction.objects.select_for_update().get(pk=correction.pk)
        permissions.require(actor, Action.CORRECTION_PROPOSE, target)
        if target.kind == CorrectionKind.REVERSE or target.status != CorrectionStatus.APPROVED:
            raise ValidationError(_("Only an approved stop or recovery can be reversed."))
        recovery = getattr(target, "recovery", None)
        if recovery is not None and recovery.recovered_amount > 0:
            raise ValidationError(_("Money was already recovered: settle it with the family first."))
        try:
            with transaction.atomic(), trail.labelled("correction.propose_reverse", reason):
                return Correction.objects.create(
                    kind=CorrectionKind.REVERSE,
                    award_id=target.award_id,
                    line_id=target.line_id,
                    reverses=target,
                    school_id=target.school_id,
                    amount=target.amount,
                    reason=reason,
                    proposed_by=actor,
                )
        except IntegrityError:
            raise ValidationError(MSG_OPEN) from None


def correction_decide(*, actor: Any, correction: Correction, approve: bool, reason: str = "") -> Correction:
    """Approve (it takes effect now) or reject a proposed correction; four eyes."""
    with transaction.atomic():
        c = Correction.objects.select_for_update().get(pk=correction.pk)
        permissions.require(actor, Action.CORRECTION_APPROVE, c)
        if c.proposed_by_id == actor.pk:
            raise ValidationError(MSG_FOUR_EYES)
        if c.status != CorrectionStatus.PROPOSED:
            raise ValidationError(_("This correction has already been decided."))
        if not approve and not reason.strip():
            raise ValidationError(_("Say why the correction is rejected."))
        c.approve() if approve else c.reject()
        c.decided_by, c.decision_reason = actor, reason
        with trail.labelled(f"correction.{'approve' if approve else 'reject'}_{c.kind.lower()}", reason or c.reason):
            c.save(update_fields=["status", "decided_by", "decision_reason", "updated_at"])
            if approve:
                _take_effect(c)
                # The award's stop or reinstatement refreshed its group (funding's signal); a recovery
                # opened or reversed is refreshed here, after it.
                refresh_awards(awards=[Award.objects.get(pk=c.award_id)])
    return c


def _take_effect(c: Correction) -> None:
    # The award's own state is funding's: it is changed through funding's services.
    award = Award.objects.get(pk=c.award_id)
    if c.kind == CorrectionKind.STOP:
        award_stop(award=award, reason=c.reason)
        # Leaves the pending batch, with the reason.
        pending = PaymentLine.objects.filter(award=award, status=LineStatus.PENDING)
        batches = list(pending.order_by().values_list("batch_id", flat=True).distinct())
        if workflow.bulk_transition(pending, "remove", removed_reason=c.reason[:200]):
            batch_summary_refresh(batch_ids=batches, school_ids=[award.school_id])
    elif c.kind == CorrectionKind.RECOVER:
        award_stop(award=award, reason=c.reason)
        Recovery.objects.create(correction=c, line_id=c.line_id, school_id=c.school_id, amount=c.amount)
    else:  # REVERSE: the award is payable again (a later batch pays it); a recovery case is closed
        target = c.reverses
        award_reinstate(award=award)
        recovery = getattr(target, "recovery", None)
        if recovery is not None:
            recovery.reverse()
            recovery.save(update_fields=["status", "updated_at"])


def recovery_record(*, actor: Any, recovery: Recovery, amount: Decimal, note: str = "") -> Recovery:
    """Money came back (all or part): the case closes when it is all back."""
    with transaction.atomic():
        r = Recovery.objects.select_for_update().get(pk=recovery.pk)
        permissions.require(actor, Action.CORRECTION_PROPOSE, r)
        if r.status != RecoveryStatus.OPEN:
            raise ValidationError(_("This recovery case is closed."))
        if amount <= 0 or r.recovered_amount + amount > r.amount:
            raise ValidationError(_("The amount must be more than zero and no more than what is still owed."))
        r.recovered_amount += amount
        if r.recovered_amount == r.amount:
            r.recover()
        r.note = "\n".join(filter(None, [r.note, note]))
        with trail.labelled("recovery.record", note):
            r.save(update_fields=["recovered_amount", "status", "note", "updated_at"])
        refresh_awards(awards=[Award.objects.get(pk=r.line.award_id)])
    return r


def recovery_write_off(*, actor: Any, recovery: Recovery, reason: str) -> Recovery:
    """核销: what cannot be recovered is written off, approved by someone other than who proposed the
    recovery."""
    with transaction.atomic():
        r = Recovery.objects.select_for_update().select_related("correction").get(pk=recovery.pk)
        permissions.require(actor, Action.CORRECTION_APPROVE, r)
        if r.correction.proposed_by_id == actor.pk:
            raise ValidationError(MSG_FOUR_EYES)
        if r.status != RecoveryStatus.OPEN:
            raise ValidationError(_("This recovery case is closed."))
        if not reason.strip():
            raise ValidationError(_("Say why it cannot be recovered."))
        r.write_off()
        r.note = "\n".join(filter(None, [r.note, reason]))
        with trail.labelled("recovery.write_off", reason):
            r.save(update_fields=["status", "note", "updated_at"])
    return r
