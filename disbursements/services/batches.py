"""Disbursement batches: build (the semester's first batch, then reissue batches for omissions, fixed
cards and failed lines), the schools' enrollment check, release to the bank, and rebuilding a batch
without the lines a bank refused a whole file for.

Building is set-based (one query for the payable awards, one INSERT of the lines) and serialised per
semester by a lock on the semester row; the database's unique constraint on live lines is the last
word on "never paid twice".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import workflow
from core.audit import trail
from core.tenancy.context import tenant_transaction
from funding.models import Award, AwardStatus, PaymentMethod, Semester
from schools import jobs, permissions
from schools.models import Job, JobStatus, School, User
from schools.permissions import Action
from students.models import EnrollmentStatus

from ..batch_summary import batch_summary_refresh
from ..models import (
    LIVE_LINE_STATES,
    Batch,
    BatchKind,
    BatchStatus,
    EnrollmentConfirmation,
    LineStatus,
    PaymentLine,
)

BUILD_JOB_KIND = "batch_build"
#: The awards left out that the job's result lists (with the count of all of them).
SKIPPED_SHOWN = 20

MSG_OPEN_BATCH = _("A batch of this semester is still being assembled: release or close it first.")
MSG_FIRST_EXISTS = _("This semester already has its first batch; omissions go into a reissue batch.")
MSG_CONCURRENT = _("Another batch took some of these awards at the same moment. Reload and try again.")
MSG_NOT_FROZEN = _("This batch is not waiting for release.")
MSG_UNCONFIRMED = _("These schools have not confirmed their pupils still attend: %(schools)s")


@dataclass
class BuildResult:
    batch: Batch | None
    lines: int = 0
    skipped: list[tuple[Any, str]] = field(default_factory=list)
    # True when the batch was built earlier by the same job (its worker died after the commit).
    already_built: bool = False


#: How often (in awards looked at) building a batch reports its progress.
PROGRESS_EVERY = 500


def batch_build(
    *,
    actor: Any,
    semester: Semester,
    kind: str,
    job_id: Any = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> BuildResult:
    """Put every approved, bank-paid award without a live line into a new batch, and freeze it.

    The first batch takes the approved lists; a reissue batch (补发) takes what came after: awards
    added late, awards whose line failed (once the card is fixed) and lines left out of a rebuilt batch.
    An award whose student has no funding card is skipped, with the reason.

    Built by a background job (`job_id`), the batch records the job: the job sent again after its
    worker died finds the batch its first attempt committed (under the same semester lock) and
    returns it instead of building another or being refused by it.
    """
    permissions.require(actor, Action.BATCH_MANAGE)
    kind = BatchKind(kind)
    try:
        with transaction.atomic():
            semester = Semester.objects.select_for_update().get(pk=semester.pk)
            if job_id is not None:
                earlier = Batch.objects.filter(build_job_id=job_id).first()
                if earlier is not None:
                    return BuildResult(batch=earlier, lines=earlier.lines.count(), already_built=True)
            batches = Batch.objects.filter(semester=semester)
            if batches.filter(status__in=[BatchStatus.DRAFT, BatchStatus.FROZEN]).exists():
                raise ValidationError(MSG_OPEN_BATCH)
            if kind == BatchKind.FIRST and batches.filter(kind=BatchKind.FIRST).exists():
                raise ValidationError(MSG_FIRST_EXISTS)
            payable = (
                Award.objects.filter(
                    semester=semester, status=AwardStatus.APPROVED, program__payment_method=PaymentMethod.BANK
                )
                .exclude(lines__status__in=LIVE_LINE_STATES)
                .select_related("student", "program")
                .order_by("school_id", "grade_id", "klass_id", "pk")
            )
            result = BuildResult(batch=None)
            total = payable.count() if progress else 0
            failed_cards = _failed_cards(payable)
            lines = []
            for seen, award in enumerate(payable, start=1):
                if progress and seen % PROGRESS_EVERY == 0:
                    progress(seen, total, str(_("Preparing the payment lines")))
                student = award.student
                if not student.card_account:
                    result.skipped.append((award.pk, str(_("no funding card on record"))))
                    continue
                failed = failed_cards.get(award.pk)
                if failed is not None and failed[0] == student.card_account_hash:
                    # Paid to this card before and the bank refused it: wait until the card is fixed.
                    result.skipped.append(
                        (award.pk, str(_("card not fixed yet (the bank said: %(why)s)") % {"why": failed[1]}))
                    )
                    continue
                if student.enrollment_status != EnrollmentStatus.ATTENDING:
                    result.skipped.append((award.pk, str(_("no longer attending"))))
                    continue
                lines.append(
                    PaymentLine(
                        award=award,
                        program_id=award.program_id,
                        semester_id=semester.pk,
                        student=student,
                        school_id=award.school_id,
                        grade_id=award.grade_id,
                        klass_id=award.klass_id,
                        amount=award.amount,
                        source=award.program.source,
                        bank=student.card_bank or "",
                        account=student.card_account.reveal(),
                        holder=student.card_holder or student.name,
                    )
                )
            if not lines:
                return result  # nothing to pay: no empty batch is left behind to block the next one
            number = (batches.aggregate(n=Max("number"))["n"] or 0) + 1
            batch = result.batch = Batch.objects.create(
                semester=semester, number=number, kind=kind, created_by=actor, build_job_id=job_id
            )
            for line in lines:
                line.batch = batch
            if progress:
                progress(total, total, str(_("Writing the batch")))
            with trail.labelled("batch.build"):
                PaymentLine.objects.bulk_create(lines, batch_size=2000)
                batch.freeze()
                batch.save(update_fields=["status", "updated_at"])
            batch_summary_refresh(batch_ids=[batch.pk])
            result.lines = len(lines)
            return result
    except IntegrityError:
        # The partial unique index on live lines: someone else's batch took an award meanwhile.
        raise ValidationError(MSG_CONCURRENT) from None


def batch_build_start(*, actor: Any, semester: Semester, kind: str) -> Job:
    """Queue building a batch (the page's button): a background job with a progress bar. A second
    click while a build of the semester is queued or running gets that job, not a second one (the
    semester row is locked while looking, so two clicks at once see each other)."""
    from ..tasks import batch_build_task

    permissions.require(actor, Action.BATCH_MANAGE)
    kind = BatchKind(kind)
    with transaction.atomic():
        Semester.objects.select_for_update().get(pk=semester.pk)
        pending = (
            Job.objects.filter(
                kind=BUILD_JOB_KIND,
                status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
                params__semester=str(semester.pk),
            )
            .order_by("created_at", "pk")
            .first()
        )
        if pending is not None:
            return pending
        return jobs.job_start(
            kind=BUILD_JOB_KIND,
            actor=actor,
            task=batch_build_task,
            params={"semester": str(semester.pk), "kind": kind.value},
        )


def batch_build_job_run(*, job: Job) -> tuple[dict[str, Any], str]:
    """The background job's work, as the person who started it: one locked transaction (the batch is
    built whole or not at all); a refusal (a batch still open, the first one already built) is the
    job's result, shown on the page."""
    with tenant_transaction(job.tenant_id):
        semester = Semester.objects.get(pk=job.params["semester"])
        actor = User.objects.get(pk=job.actor_id)

    def progress(done: int, total: int, message: str) -> None:
        jobs.job_progress(job, done=done, total=total, message=message)

    try:
        with tenant_transaction(job.tenant_id):
            result = batch_build(
                actor=actor, semester=semester, kind=job.params["kind"], job_id=job.pk, progress=progress
            )
    except ValidationError as exc:
        message = "；".join(exc.messages)
        return {"refused": message}, message
    skipped = [{"award": str(pk), "reason": why} for pk, why in result.skipped[:SKIPPED_SHOWN]]
    body = {
        "batch": str(result.batch.pk) if result.batch else None,
        "number": result.batch.number if result.batch else None,
        "lines": result.lines,
        "skipped": skipped,
        "skipped_count": len(result.skipped),
        "already_built": result.already_built,
    }
    if result.batch is None:
        return body, str(_("Nothing to pay: no batch was made."))
    return body, str(_("%(n)d lines in the batch.") % {"n": result.lines})


def _failed_cards(awards: Any) -> dict[Any, tuple[str, str]]:
    """{award id: (blind index of the card, the bank's message)} of each award's latest failed line."""
    failed: dict[Any, tuple[str, str]] = {}
    rows = (
        PaymentLine.objects.filter(award__in=awards.values("pk"), status=LineStatus.FAILED)
        .order_by("award_id", "-created_at")
        .values_list("award_id", "account_hash", "bank_message")
    )
    for award_id, account_hash, message in rows:
        failed.setdefault(award_id, (account_hash, message))
    return failed


def batch_confirm_school(*, actor: Any, batch: Batch, school: Any, note: str = "") -> EnrollmentConfirmation:
    """在校核实: the school confirms its pupils on the batch still attend; the lines of those who no
    longer do leave the batch now (they would pay a child who left)."""
    permissions.require(actor, Action.ENROLLMENT_CONFIRM, school)
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != BatchStatus.FROZEN:
            raise ValidationError(MSG_NOT_FROZEN)
        gone = PaymentLine.objects.filter(batch=batch, school=school, status=LineStatus.PENDING).exclude(
            student__enrollment_status=EnrollmentStatus.ATTENDING
        )
        with trail.labelled("line.remove", "no longer attending"):
            if workflow.bulk_transition(gone, "remove", removed_reason=str(_("no longer attending"))):
                batch_summary_refresh(batch_ids=[batch.pk], school_ids=[school.pk])
        confirmation, _created = EnrollmentConfirmation.objects.get_or_create(
            batch=batch, school=school, defaults={"confirmed_by": actor, "note": note}
        )
    return confirmation


def batch_release(*, actor: Any, batch: Batch) -> Batch:
    """Send the batch to the bank (its roster is exported next): only when every school on it has
    confirmed its pupils."""
    permissions.require(actor, Action.BATCH_MANAGE, batch)
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != BatchStatus.FROZEN:
            raise ValidationError(MSG_NOT_FROZEN)
        schools = set(batch.lines.filter(status=LineStatus.PENDING).values_list("school_id", flat=True))
        confirmed = set(batch.confirmations.values_list("school_id", flat=True))
        missing = schools - confirmed
        if missing:
            names = "、".join(School.objects.filter(pk__in=missing).order_by("code").values_list("name", flat=True))
            raise ValidationError(MSG_UNCONFIRMED % {"schools": names})
        with trail.labelled("batch.release"):
            workflow.bulk_transition(batch.lines.all(), "export")
            batch.release()
            batch.released_by, batch.released_at = actor, timezone.now()
            batch.save(update_fields=["status", "released_by", "released_at", "updated_at"])
        batch_summary_refresh(batch_ids=[batch.pk])
    return batch


def batch_exclude_lines(*, actor: Any, batch: Batch, line_ids: list[Any], reason: str) -> int:
    """The bank refused the whole file because of a few lines: rebuild the batch without them. They
    leave it (removed, with the reason) and can be paid in a later batch once fixed."""
    permissions.require(actor, Action.BATCH_MANAGE, batch)
    if not reason.strip():
        raise ValidationError(_("Say why these lines leave the batch (the bank's reason)."))
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        if batch.status not in (BatchStatus.FROZEN, BatchStatus.RELEASED):
            raise ValidationError(MSG_NOT_FROZEN)
        with trail.labelled("line.exclude", reason):
            removed = workflow.bulk_transition(
                batch.lines.filter(pk__in=line_ids), "remove", removed_reason=reason[:200]
            )
        batch_summary_refresh(batch_ids=[batch.pk])
        return removed
