"""回访: post-payment checks. After a batch is paid the district draws a sample of its paid lines (the
size, or a share, and the seed recorded: the same seed on the same batch draws the same lines); the
school's officer asks each sampled family (by phone or a visit) whether the money arrived in full and on
time; a discrepancy opens a follow-up that the district settles, if need be with a correction.

    SpotCheck      OPEN ─complete (the last line recorded)→ DONE
    SpotCheckLine  PENDING ─record→ CHECKED (result: in full / short / late / not arrived)
    CheckFollowUp  OPEN ─resolve→ RESOLVED | OPEN ─correct (a correction proposed)→ CORRECTED
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.tenancy.models import TenantModel
from disbursements.models import Batch, Correction, PaymentLine
from funding.models import MONEY, Semester
from schools.models import Grade, School, SchoolClass, User
from schools.permissions import Action, Scope
from students.models import Student


class SpotCheckStatus(models.TextChoices):
    OPEN = "OPEN", _("Being checked")
    DONE = "DONE", _("Every line checked")


class SpotCheck(FSMModelMixin, TenantModel):
    """One sample of a paid batch's lines (at most one per batch)."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="+")
    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, related_name="+")
    seed = models.BigIntegerField(_("seed"))
    percent = models.DecimalField(_("share asked (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    size = models.PositiveIntegerField(_("lines drawn"))
    population = models.PositiveIntegerField(_("paid lines at the draw"))
    status = FSMField(max_length=8, choices=SpotCheckStatus.choices, default=SpotCheckStatus.OPEN, protected=True)
    drawn_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope()  # the sample is the district's; its lines are the schools'
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("post-payment check")
        verbose_name_plural = _("post-payment checks")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="oversight_spotcheck_tenant_id_uniq"),
            # One sample per batch: a second click (or a second person) finds the first.
            models.UniqueConstraint(fields=["tenant", "batch"], name="oversight_spotcheck_one_per_batch"),
            models.CheckConstraint(condition=Q(size__gt=0), name="oversight_spotcheck_size_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.batch} ({self.size})"

    @transition(field=status, source=SpotCheckStatus.OPEN, target=SpotCheckStatus.DONE)
    def complete(self) -> None:
        """The last sampled line was recorded."""


class CheckMethod(models.TextChoices):
    PHONE = "PHONE", _("Phone call")  # 电话回访
    VISIT = "VISIT", _("Home visit")  # 入户回访


class CheckResult(models.TextChoices):
    IN_FULL = "IN_FULL", _("Arrived in full and on time")
    SHORT = "SHORT", _("Arrived short")
    LATE = "LATE", _("Arrived late")
    NOT_ARRIVED = "NOT_ARRIVED", _("Not arrived")


#: Results that open a follow-up for the district.
DISCREPANCIES = (CheckResult.SHORT, CheckResult.LATE, CheckResult.NOT_ARRIVED)


class CheckLineStatus(models.TextChoices):
    PENDING = "PENDING", _("To check")
    CHECKED = "CHECKED", _("Checked")


class SpotCheckLine(FSMModelMixin, TenantModel):
    """One sampled payment line, placed in its school so that a school sees only its own."""

    sample = models.ForeignKey(SpotCheck, on_delete=models.PROTECT, related_name="lines")
    line = models.ForeignKey(PaymentLine, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    klass = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    rank = models.PositiveIntegerField(_("place in the draw"))
    status = FSMField(max_length=8, choices=CheckLineStatus.choices, default=CheckLineStatus.PENDING, protected=True)
    result = models.CharField(_("result"), max_length=12, choices=CheckResult.choices, blank=True)
    method = models.CharField(_("how"), max_length=6, choices=CheckMethod.choices, blank=True)
    checked_on = models.DateField(_("checked on"), null=True, blank=True)
    contact = models.CharField(_("who was asked, by whom"), max_length=100, blank=True)
    received_amount = models.DecimalField(_("amount received"), **MONEY, null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope(school="school")
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("sampled payment line")
        verbose_name_plural = _("sampled payment lines")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="oversight_checkline_tenant_id_uniq"),
            models.UniqueConstraint(fields=["tenant", "sample", "line"], name="oversight_checkline_once"),
        ]
        indexes = [models.Index(fields=["tenant", "sample", "school", "status"], name="oversight_checkline_idx")]

    def __str__(self) -> str:
        return f"{self.sample} #{self.rank}"

    @transition(field=status, source=CheckLineStatus.PENDING, target=CheckLineStatus.CHECKED)
    def record(self) -> None:
        """The family was asked; the result is kept."""


class FollowUpStatus(models.TextChoices):
    OPEN = "OPEN", _("Open")
    RESOLVED = "RESOLVED", _("Settled")
    CORRECTED = "CORRECTED", _("Correction proposed")


class CheckFollowUp(FSMModelMixin, TenantModel):
    """A discrepancy a check found (short, late, not arrived): the district settles it."""

    check_line = models.ForeignKey(SpotCheckLine, on_delete=models.PROTECT, related_name="follow_ups")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    status = FSMField(max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN, protected=True)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    correction = models.ForeignKey(Correction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope(school="school")
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("check follow-up")
        verbose_name_plural = _("check follow-ups")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="oversight_followup_tenant_id_uniq"),
            models.UniqueConstraint(fields=["tenant", "check_line"], name="oversight_followup_one_per_line"),
        ]

    def __str__(self) -> str:
        return f"{self.check_line} {self.get_status_display()}"

    @transition(field=status, source=FollowUpStatus.OPEN, target=FollowUpStatus.RESOLVED)
    def resolve(self) -> None:
        """Settled without a correction (the money came after all, the bank explained it…)."""

    @transition(field=status, source=FollowUpStatus.OPEN, target=FollowUpStatus.CORRECTED)
    def correct(self) -> None:
        """A correction of the award was proposed (approved by a second person, as every correction)."""
