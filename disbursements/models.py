"""发放: disbursement batches, their payment lines, the bank's returns, stops and recoveries.

A line is never ¥0, and a student is never paid twice for one program and semester: a partial unique
constraint allows at most one live line (pending, exported or paid) per student, program and semester,
so a failed line can be paid again in a later batch, and nothing else can.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.fields import BlindIndexField, EncryptedField
from core.tenancy.models import TenantModel
from funding.models import MONEY, ZERO, Award, FundingSource, Program, Semester
from schools.models import Grade, School, SchoolClass, User
from schools.permissions import Action, Scope
from students.models import Student


class BatchKind(models.TextChoices):
    FIRST = "FIRST", _("First batch")  # 第一批
    REISSUE = "REISSUE", _("Reissue batch")  # 补发 (omissions, fixed cards, failed lines paid again)


class BatchStatus(models.TextChoices):
    DRAFT = "DRAFT", _("Being assembled")
    FROZEN = "FROZEN", _("Frozen, waiting for the schools' enrollment check")
    RELEASED = "RELEASED", _("Released to the bank")
    CLOSED = "CLOSED", _("Reconciled")


class Batch(FSMModelMixin, TenantModel):
    """One disbursement batch of a semester: its lines are frozen when it is built."""

    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, related_name="batches")
    number = models.PositiveSmallIntegerField(_("number"))
    kind = models.CharField(_("kind"), max_length=8, choices=BatchKind.choices)
    status = FSMField(max_length=10, choices=BatchStatus.choices, default=BatchStatus.DRAFT, protected=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    released_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    # The background job that built it (schools.Job's id): a job sent again after its worker died finds
    # the batch its first attempt committed instead of being refused by it. Unique, so one job builds
    # at most one batch. A plain id, not a key: jobs are bookkeeping, batches are money records.
    build_job_id = models.UUIDField(null=True, blank=True, editable=False)

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("disbursement batch")
        verbose_name_plural = _("disbursement batches")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "semester", "number"], name="disbursements_batch_number_uniq"),
            models.UniqueConstraint(fields=["tenant", "id"], name="disbursements_batch_tenant_id_uniq"),
            models.UniqueConstraint(fields=["tenant", "build_job_id"], name="disbursements_batch_build_job_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.semester} {self.get_kind_display()} #{self.number}"

    # DRAFT ─freeze (its lines written)→ FROZEN ─release (every school confirmed)→ RELEASED ─close→ CLOSED

    @transition(field=status, source=BatchStatus.DRAFT, target=BatchStatus.FROZEN)
    def freeze(self) -> None:
        """Its lines are written: the schools check their pupils still attend."""

    @transition(field=status, source=BatchStatus.FROZEN, target=BatchStatus.RELEASED)
    def release(self) -> None:
        """Sent to the bank."""

    @transition(field=status, source=BatchStatus.RELEASED, target=BatchStatus.CLOSED)
    def close(self) -> None:
        """The bank answered for every line and the sums agree to the fen."""


class EnrollmentConfirmation(TenantModel):
    """Before a batch is released, each school confirms its pupils on it still attend (在校核实)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="confirmations")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    confirmed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=200, blank=True)

    scope: ClassVar[Scope] = Scope(school="school")
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("enrollment confirmation")
        verbose_name_plural = _("enrollment confirmations")
        constraints = [models.UniqueConstraint(fields=["tenant", "batch", "school"], name="disbursements_confirm_uniq")]

    def __str__(self) -> str:
        return f"{self.batch} {self.school}"


class LineStatus(models.TextChoices):
    PENDING = "PENDING", _("Pending")  # in a batch not yet released
    EXPORTED = "EXPORTED", _("Sent to the bank")
    PAID = "PAID", _("Paid")
    FAILED = "FAILED", _("Failed")  # the bank returned it: fix the card, pay again in a later batch
    REMOVED = "REMOVED", _("Removed")  # stopped, or left out when the batch was rebuilt


#: States in which a line counts as (about to be) paid: at most one per student, program, semester.
LIVE_LINE_STATES = [LineStatus.PENDING, LineStatus.EXPORTED, LineStatus.PAID]


class PaymentLine(FSMModelMixin, TenantModel):
    """One payment to one funding card: an award's amount, frozen with the card as it was."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="lines")
    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="lines")
    # Copied from the award so that the constraint below can hold in the database.
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="payment_lines")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    klass = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount"), **MONEY)
    source = models.CharField(_("funding source"), max_length=12, choices=FundingSource.choices)
    bank = models.CharField(_("bank"), max_length=50)
    account = EncryptedField(_("account number"), kind="account")
    account_hash = BlindIndexField(source="account")
    holder = models.CharField(_("account holder"), max_length=50)
    status = FSMField(max_length=10, choices=LineStatus.choices, default=LineStatus.PENDING, protected=True)
    # The bank's answer, kept with the line (file name and error code, as the bank wrote them).
    return_file = models.CharField(max_length=200, blank=True)
    bank_code = models.CharField(max_length=40, blank=True)
    bank_message = models.CharField(max_length=200, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    removed_reason = models.CharField(max_length=200, blank=True)

    scope: ClassVar[Scope] = Scope(school="school", grade="grade", klass="klass")
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("payment line")
        verbose_name_plural = _("payment lines")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="disbursements_line_never_zero"),
            models.UniqueConstraint(
                fields=["tenant", "program", "semester", "student"],
                condition=Q(status__in=LIVE_LINE_STATES),
                name="disbursements_line_never_paid_twice",
            ),
            models.UniqueConstraint(fields=["tenant", "id"], name="disbursements_line_tenant_id_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "batch", "status"], name="disbursements_line_batch_idx")]

    def __str__(self) -> str:
        return f"{self.student} {self.amount} {self.get_status_display()}"

    # PENDING ─export (the batch is released)→ EXPORTED ─pay / fail (the bank's return)→ PAID / FAILED
    # PENDING or EXPORTED ─remove (stopped, left school, refused by the bank with the file)→ REMOVED
    # Lines move in bulk (core.workflow.bulk_transition): a batch's lines, a return's answers.

    @transition(field=status, source=LineStatus.PENDING, target=LineStatus.EXPORTED)
    def export(self) -> None:
        """On the payment roster sent to the bank."""

    @transition(field=status, source=LineStatus.EXPORTED, target=LineStatus.PAID)
    def pay(self) -> None:
        """The bank paid it."""

    @transition(field=status, source=LineStatus.EXPORTED, target=LineStatus.FAILED)
    def fail(self) -> None:
        """The bank returned it: fix the card, pay again in a later batch."""

    @transition(field=status, source=[LineStatus.PENDING, LineStatus.EXPORTED], target=LineStatus.REMOVED)
    def remove(self) -> None:
        """Leaves its batch, with the reason."""


class BankReturn(TenantModel):
    """A return file imported for a batch; the same file imported twice changes nothing."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="returns")
    file_name = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    imported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    paid_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    paid_amount = models.DecimalField(**MONEY, default=ZERO)
    failed_amount = models.DecimalField(**MONEY, default=ZERO)
    problems = models.JSONField(
        default=list, blank=True, help_text="lines of the file that matched nothing, or disagreed"
    )

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("bank return")
        verbose_name_plural = _("bank returns")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "batch", "fingerprint"], name="disbursements_return_once")
        ]

    def __str__(self) -> str:
        return self.file_name


class CorrectionKind(models.TextChoices):
    STOP = "STOP", _("Stop")  # 停发: an award found wrong, not yet paid
    RECOVER = "RECOVER", _("Recover")  # 追回: already paid
    REVERSE = "REVERSE", _("Reverse a correction")  # the correction itself was wrong


class CorrectionStatus(models.TextChoices):
    PROPOSED = "PROPOSED", _("Waiting for approval")
    APPROVED = "APPROVED", _("Approved")
    REJECTED = "REJECTED", _("Rejected")


class Correction(FSMModelMixin, TenantModel):
    """纠错: a stop, a recovery, or the reversal of one, proposed with the reason and evidence and
    approved by a second person. Visible to the auditor with the whole chain of decisions."""

    kind = models.CharField(max_length=8, choices=CorrectionKind.choices)
    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="corrections")
    line = models.ForeignKey(PaymentLine, null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    # At most one reversal per correction, unique per tenant (a distributed database cannot keep a
    # uniqueness without the tenant): a ForeignKey with the constraint below, not a OneToOneField.
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY, default=ZERO)
    reason = models.TextField(_("reason"))
    evidence = models.TextField(_("evidence"), blank=True)
    status = FSMField(
        max_length=10, choices=CorrectionStatus.choices, default=CorrectionStatus.PROPOSED, protected=True
    )
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decision_reason = models.TextField(blank=True)

    scope: ClassVar[Scope] = Scope(school="school")
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "award", "kind"],
                condition=Q(status="PROPOSED"),
                name="disbursements_correction_one_open",
            ),
            models.UniqueConstraint(fields=["tenant", "id"], name="disbursements_correction_tenant_id_uniq"),
            models.UniqueConstraint(fields=["tenant", "reverses"], name="disbursements_correction_reversed_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.award}"

    # PROPOSED ─approve / reject (by a second person)→ APPROVED / REJECTED

    @transition(field=status, source=CorrectionStatus.PROPOSED, target=CorrectionStatus.APPROVED)
    def approve(self) -> None:
        """It takes effect now."""

    @transition(field=status, source=CorrectionStatus.PROPOSED, target=CorrectionStatus.REJECTED)
    def reject(self) -> None:
        """Refused, with the reason."""


class RecoveryStatus(models.TextChoices):
    OPEN = "OPEN", _("Open")  # 追回中
    RECOVERED = "RECOVERED", _("Recovered")  # 已追回
    WRITTEN_OFF = "WRITTEN_OFF", _("Written off")  # 核销 (with approval)
    REVERSED = "REVERSED", _("Reversed")  # the recovery itself was wrong


class Recovery(FSMModelMixin, TenantModel):
    """追回: money paid that should not have been, tracked until it is back (or written off)."""

    # One recovery case per correction, unique per tenant (see Correction.reverses).
    correction = models.ForeignKey(Correction, on_delete=models.PROTECT, related_name="recoveries")
    line = models.ForeignKey(PaymentLine, on_delete=models.PROTECT, related_name="recoveries")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    recovered_amount = models.DecimalField(**MONEY, default=ZERO)
    status = FSMField(max_length=12, choices=RecoveryStatus.choices, default=RecoveryStatus.OPEN, protected=True)
    note = models.TextField(blank=True)

    scope: ClassVar[Scope] = Scope(school="school")
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("recovery case")
        verbose_name_plural = _("recovery cases")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="disbursements_recovery_amount_positive"),
            models.CheckConstraint(
                condition=Q(recovered_amount__gte=0) & Q(recovered_amount__lte=models.F("amount")),
                name="disbursements_recovery_within_amount",
            ),
            models.UniqueConstraint(fields=["tenant", "correction"], name="disbursements_recovery_one_per_correction"),
        ]

    def __str__(self) -> str:
        return f"{self.line} {self.amount}"

    # OPEN ─recover (all of it back)→ RECOVERED;  OPEN ─write_off (approved)→ WRITTEN_OFF
    # any ─reverse (the correction that opened it was reversed)→ REVERSED

    @transition(field=status, source=RecoveryStatus.OPEN, target=RecoveryStatus.RECOVERED)
    def recover(self) -> None:
        """The last of the money came back."""

    @transition(field=status, source=RecoveryStatus.OPEN, target=RecoveryStatus.WRITTEN_OFF)
    def write_off(self) -> None:
        """核销: what cannot be recovered, approved by a second person."""

    @transition(field=status, source="+", target=RecoveryStatus.REVERSED)
    def reverse(self) -> None:
        """The recovery itself was wrong."""


class BankLayout(TenantModel):
    """How one bank wants its payment roster: the columns (in order, with their headers), the file
    encoding for CSV. Districts configure one per bank they pay through."""

    bank = models.CharField(_("bank"), max_length=50)
    columns = models.JSONField(
        _("columns"),
        help_text=_("[[header, field], …] with field one of: seq, ref (业务编号, the line's reference the bank "
                    "returns), name, id_number, account, holder, amount, school, grade, class, program, source, bank"),
    )  # fmt: skip
    csv_encoding = models.CharField(_("CSV encoding"), max_length=10, default="gb18030")

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("bank layout")
        verbose_name_plural = _("bank layouts")
        constraints = [models.UniqueConstraint(fields=["tenant", "bank"], name="disbursements_layout_bank_uniq")]

    def __str__(self) -> str:
        return self.bank


class MoneySummary(TenantModel):
    """资金汇总: the money of one (semester, program, school), as `disbursements.ledger.money_by` computes
    it from the awards, lines and recoveries, kept in step by `disbursements.summary` (recomputed for the
    touched groups in the transaction of every change, and rebuilt whole by a command and a beat task).

    Derived, never edited: the dashboard, the periodic reports and the home page read it (a few rows per
    school instead of every line); the ledger keeps computing from the lines, and the tests hold the two
    equal to the fen. Its rows are written by one set-based statement, not through the ORM: the audit
    rows of the awards, lines and recoveries it sums stand for them (`audited_with`)."""

    semester = models.ForeignKey(Semester, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    awards = models.PositiveIntegerField(_("awards"), default=0)  # approved or stopped
    students = models.PositiveIntegerField(_("pupils"), default=0)  # distinct
    approved = models.DecimalField(**MONEY, default=ZERO)
    paid = models.DecimalField(**MONEY, default=ZERO)
    failed = models.DecimalField(**MONEY, default=ZERO)  # until a later line pays the award
    recovered = models.DecimalField(**MONEY, default=ZERO)
    paid_lines = models.PositiveIntegerField(_("lines paid"), default=0)
    failed_lines = models.PositiveIntegerField(_("lines failed"), default=0)  # every failed line
    recoveries_done = models.PositiveIntegerField(_("recoveries done"), default=0)

    scope: ClassVar[Scope] = Scope(school="school")
    view_action: ClassVar[Action] = Action.FUNDING_VIEW
    audited_with: ClassVar[str] = "semester"

    class Meta:
        verbose_name = _("money summary")
        verbose_name_plural = _("money summaries")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="disbursements_summary_tenant_id_uniq"),
            models.UniqueConstraint(
                fields=["tenant", "semester", "program", "school"], name="disbursements_summary_group_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.semester_id} {self.program_id} {self.school_id}"


class BatchLineSummary(TenantModel):
    """批次汇总: one batch's lines at one school in one status, counted and summed, as the dashboard's
    batches chart computes them from the lines (`disbursements.batch_summary`). Kept in step in the
    transaction of every service that adds lines to a batch or moves their status (build, a school's
    confirmation, release, exclusion, the bank's return, a correction taking effect), rebuilt with the
    money summary. Derived, never edited; the batch's audit rows stand for it (`audited_with`)."""

    semester = models.ForeignKey(Semester, on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey("Batch", on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=LineStatus.choices)
    lines = models.PositiveIntegerField(_("lines"), default=0)
    amount = models.DecimalField(**MONEY, default=ZERO)

    scope: ClassVar[Scope] = Scope(school="school")
    view_action: ClassVar[Action] = Action.FUNDING_VIEW
    audited_with: ClassVar[str] = "batch"

    class Meta:
        verbose_name = _("batch line summary")
        verbose_name_plural = _("batch line summaries")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="disbursements_batchsum_tenant_id_uniq"),
            models.UniqueConstraint(
                fields=["tenant", "batch", "school", "status"], name="disbursements_batchsum_group_uniq"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "semester"], name="disbursements_batchsum_sem_idx")]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.school_id} {self.status}"
