"""回访: draw a sample of a paid batch's lines, record what each family said, settle the discrepancies.

The draw is set-based and reproducible: each paid line's place is the MD5 of "<seed>:<line id>" computed
by the database, the lines sorted by it (the id breaks a tie), the first `size` kept, and the sample
written with one INSERT. The same seed on the same batch draws the same lines; the seed and the size are
recorded on the sample.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Value
from django.db.models.functions import MD5, Cast, Concat
from django.utils.translation import gettext_lazy as _

from core import clock
from core.audit import trail
from disbursements.models import Batch, BatchStatus, LineStatus, PaymentLine
from disbursements.services.corrections import correction_propose
from schools import permissions
from schools.permissions import Action

from .models import (
    DISCREPANCIES,
    CheckFollowUp,
    CheckLineStatus,
    CheckResult,
    FollowUpStatus,
    SpotCheck,
    SpotCheckLine,
    SpotCheckStatus,
)

MSG_NOT_PAID = _("Only a batch the bank has answered, with paid lines, can be checked.")
MSG_SIZE = _("Say how many lines to check (a number) or what share of them (a percentage up to 100).")
MSG_RECORDED = _("This line was already recorded, by %(who)s on %(day)s.")
MSG_FUTURE = _("The check cannot be dated in the future.")
MSG_AMOUNT = _("Say how much arrived (less than the amount paid) for money that arrived short.")
MSG_DECIDED = _("This follow-up has already been settled.")
MSG_SAY_HOW = _("Say how the discrepancy was settled.")

#: A seed fits PostgreSQL's bigint.
MAX_SEED = 2**63 - 1


def _draw_key(seed: int) -> Any:
    """The line's place in the draw: MD5("<seed>:<line id>"), computed by the database."""
    return MD5(Concat(Value(f"{seed}:"), Cast("pk", output_field=CharField())))


def sample_lines(*, batch: Batch, seed: int, size: int) -> list[dict[str, Any]]:
    """The `size` paid lines of `batch` that `seed` draws, in draw order (one SELECT)."""
    return list(
        PaymentLine.objects.filter(batch=batch, status=LineStatus.PAID)
        .annotate(draw_key=_draw_key(seed))
        .order_by("draw_key", "pk")
        .values("pk", "student_id", "school_id", "grade_id", "klass_id")[:size]
    )


def spot_check_draw(
    *, actor: Any, batch: Batch, size: int | None = None, percent: Decimal | None = None, seed: int | None = None
) -> tuple[SpotCheck, bool]:
    """Draw the batch's sample (size or share of its paid lines; a seed chosen at random unless given).
    Returns (sample, created): a batch has one sample, so a second click or a second person gets the
    first one, unchanged."""
    if (size is None) == (percent is None) or (size is not None and size <= 0):
        raise ValidationError(MSG_SIZE)
    if percent is not None and not (Decimal(0) < percent <= Decimal(100)):
        raise ValidationError(MSG_SIZE)
    if seed is not None and not (0 <= seed <= MAX_SEED):
        raise ValidationError(_("The seed is a whole number from 0 to %(max)s.") % {"max": MAX_SEED})
    with transaction.atomic():
        locked = Batch.objects.select_for_update().get(pk=batch.pk)
        permissions.require(actor, Action.SPOT_CHECK_DRAW, locked)
        existing = SpotCheck.objects.filter(batch=locked).first()
        if existing is not None:
            return existing, False
        if locked.status not in (BatchStatus.RELEASED, BatchStatus.CLOSED):
            raise ValidationError(MSG_NOT_PAID)
        population = PaymentLine.objects.filter(batch=locked, status=LineStatus.PAID).count()
        if population == 0:
            raise ValidationError(MSG_NOT_PAID)
        wanted = size if size is not None else math.ceil(population * percent / 100)
        wanted = max(1, min(wanted, population))
        seed = secrets.randbelow(10**12) if seed is None else seed
        drawn = sample_lines(batch=locked, seed=seed, size=wanted)
        try:
            with transaction.atomic(), trail.labelled("spotcheck.draw", f"seed {seed}, {wanted}/{population}"):
                sample = SpotCheck.objects.create(
                    batch=locked, semester_id=locked.semester_id, seed=seed, percent=percent, size=wanted,
                    population=population, drawn_by=actor,
                )  # fmt: skip
                SpotCheckLine.objects.bulk_create(
                    SpotCheckLine(
                        sample=sample,
                        line_id=row["pk"],
                        student_id=row["student_id"],
                        school_id=row["school_id"],
                        grade_id=row["grade_id"],
                        klass_id=row["klass_id"],
                        rank=rank,
                    )
                    for rank, row in enumerate(drawn, start=1)
                )
        except IntegrityError:  # two draws at the same instant: the other one stands
            return SpotCheck.objects.get(batch=locked), False
    return sample, True


def spot_check_record(
    *,
    actor: Any,
    check_line: SpotCheckLine,
    result: str,
    method: str,
    checked_on: dt.date,
    contact: str,
    received_amount: Decimal | None = None,
    note: str = "",
) -> SpotCheckLine:
    """The school records what the family said about one sampled line; a discrepancy opens a follow-up
    for the district; the sample is done when its last line is recorded."""
    if checked_on > clock.today():
        raise ValidationError(MSG_FUTURE)
    with transaction.atomic():
        row = SpotCheckLine.objects.select_for_update(of=("self",)).select_related("line").get(pk=check_line.pk)
        permissions.require(actor, Action.SPOT_CHECK_RECORD, row)
        if row.status != CheckLineStatus.PENDING:
            raise ValidationError(MSG_RECORDED % {"who": row.recorded_by or "—", "day": row.checked_on or "—"})
        result = CheckResult(result)
        if result == CheckResult.SHORT:
            if received_amount is None or not (Decimal(0) <= received_amount < row.line.amount):
                raise ValidationError(MSG_AMOUNT)
        elif result == CheckResult.NOT_ARRIVED:
            received_amount = Decimal(0)
        elif result in (CheckResult.IN_FULL, CheckResult.LATE):
            received_amount = row.line.amount
        row.record()
        row.result, row.method, row.checked_on = result, method, checked_on
        row.contact, row.received_amount, row.note, row.recorded_by = (
            contact.strip()[:100],
            received_amount,
            note,
            actor,
        )
        with trail.labelled("spotcheck.record", f"{result.label}"):
            row.save(
                update_fields=[
                    "status", "result", "method", "checked_on", "contact", "received_amount", "note",
                    "recorded_by", "updated_at",
                ]
            )  # fmt: skip
            if result in DISCREPANCIES:
                CheckFollowUp.objects.create(check_line=row, school_id=row.school_id)
        sample = SpotCheck.objects.select_for_update().get(pk=row.sample_id)
        if (
            sample.status == SpotCheckStatus.OPEN
            and not SpotCheckLine.objects.filter(sample=sample, status=CheckLineStatus.PENDING).exists()
        ):
            sample.complete()
            with trail.labelled("spotcheck.complete"):
                sample.save(update_fields=["status", "updated_at"])
    return row


def follow_up_resolve(*, actor: Any, follow_up: CheckFollowUp, resolution: str) -> CheckFollowUp:
    """The district settles a discrepancy without a correction (the money came after all, the bank
    explained it…), saying how."""
    if not resolution.strip():
        raise ValidationError(MSG_SAY_HOW)
    with transaction.atomic():
        row = CheckFollowUp.objects.select_for_update().get(pk=follow_up.pk)
        permissions.require(actor, Action.SPOT_CHECK_RESOLVE, row)
        if row.status != FollowUpStatus.OPEN:
            raise ValidationError(MSG_DECIDED)
        row.resolve()
        row.resolution, row.resolved_by = resolution.strip(), actor
        with trail.labelled("spotcheck.resolve", resolution):
            row.save(update_fields=["status", "resolution", "resolved_by", "updated_at"])
    return row


def follow_up_correct(*, actor: Any, follow_up: CheckFollowUp, reason: str) -> CheckFollowUp:
    """The district proposes a correction of the line's award through the corrections service (a
    recovery for a paid line; approved by a second person like any correction); the follow-up keeps it."""
    if not reason.strip():
        raise ValidationError(MSG_SAY_HOW)
    with transaction.atomic():
        row = (
            CheckFollowUp.objects.select_for_update(of=("self",))
            .select_related("check_line__line")
            .get(pk=follow_up.pk)
        )
        permissions.require(actor, Action.SPOT_CHECK_RESOLVE, row)
        if row.status != FollowUpStatus.OPEN:
            raise ValidationError(MSG_DECIDED)
        award = row.check_line.line.award
        correction = correction_propose(actor=actor, award=award, reason=reason, evidence=evidence_of(row))
        row.correct()
        row.resolution, row.resolved_by, row.correction = reason.strip(), actor, correction
        with trail.labelled("spotcheck.correct", reason):
            row.save(update_fields=["status", "resolution", "resolved_by", "correction", "updated_at"])
    return row


def evidence_of(follow_up: CheckFollowUp) -> str:
    """What a correction proposed from a follow-up carries as its evidence."""
    return f"spot_check_follow_up:{follow_up.pk}"
