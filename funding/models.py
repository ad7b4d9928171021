"""资助项目: funding programs, their standards per semester, budgets, and the award lists (资助名单).

Money is `Decimal` yuan with two places (fen), never float. Standards are data per tenant, program,
semester, stage, tier and boarding, never constants in code.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.money import CENT, ZERO
from core.tenancy.models import TenantModel
from schools.models import Grade, School, SchoolClass, Stage, User
from schools.permissions import Action, Scope
from students.models import HardshipApplication, Student, Tier

MONEY = {"max_digits": 12, "decimal_places": 2}


class Term(models.TextChoices):
    SPRING = "SPRING", _("Spring")  # 春季学期
    AUTUMN = "AUTUMN", _("Autumn")  # 秋季学期


class Semester(TenantModel):
    """学期: the unit of budgets, awards and payments. Its lists lock at the deadline; a late entry
    needs an explicit, audited reopening."""

    academic_year = models.PositiveSmallIntegerField(_("academic year"))
    term = models.CharField(_("term"), max_length=6, choices=Term.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    deadline = models.DateField(_("lists lock on"), help_text=_("after this day, changes need a reopening"))
    reopened_until = models.DateField(_("reopened until"), null=True, blank=True)

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("semester")
        verbose_name_plural = _("semesters")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "academic_year", "term"], name="funding_semester_uniq"),
            models.UniqueConstraint(fields=["tenant", "id"], name="funding_semester_tenant_id_uniq"),
        ]

    def __str__(self) -> str:
        """In Chinese "2026年秋季学期", in English "Autumn 2026": the calendar year the term falls in."""
        year = self.academic_year if self.term == Term.AUTUMN else self.academic_year + 1
        return gettext("%(term)s %(year)d") % {"term": self.get_term_display(), "year": year}

    @property
    def code(self) -> str:
        return f"{self.academic_year}-{self.term}"


class FundingSource(models.TextChoices):
    CENTRAL = "CENTRAL", _("Central")  # 中央
    PROVINCIAL = "PROVINCIAL", _("Provincial")  # 省级
    COUNTY = "COUNTY", _("County")  # 县级
    SOCIAL = "SOCIAL", _("Social / charity")  # 社会资助


class PaymentMethod(models.TextChoices):
    BANK = "BANK", _("Paid to the funding card")  # 打卡发放
    WAIVER = "WAIVER", _("Fee waiver")  # 免学费、住宿费 (nothing paid to the family)
    IN_KIND = "IN_KIND", _("In kind")  # 营养餐 (meals, not money)


class Program(TenantModel):
    """资助项目: who it serves (stages, tiers, categories, rural schools, boarding) and how it pays."""

    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    stages = models.JSONField(_("stages"), default=list)
    source = models.CharField(_("funding source"), max_length=12, choices=FundingSource.choices)
    payment_method = models.CharField(_("how it is paid"), max_length=8, choices=PaymentMethod.choices)
    requires_identification = models.BooleanField(
        _("identified students only"), default=True, help_text=_("家庭经济困难学生认定 required")
    )
    eligible_tiers = models.JSONField(_("eligible tiers"), default=list, blank=True, help_text=_("empty: every tier"))
    eligible_categories = models.JSONField(
        _("eligible categories"), default=list, blank=True, help_text=_("empty: any (or none)")
    )
    rural_schools_only = models.BooleanField(_("rural schools only"), default=False)
    boarders_only = models.BooleanField(_("boarders only"), default=False)
    is_emergency = models.BooleanField(_("temporary emergency aid"), default=False)
    # Programs of one group pay for the same need (a living subsidy, a national grant): a student holds
    # at most one of them a semester, and the reconciliation lists a second as double funding.
    exclusive_group = models.CharField(
        _("exclusive group"), max_length=20, blank=True, help_text=_("programs of one group fund a student once")
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("funding program")
        verbose_name_plural = _("funding programs")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="funding_program_tenant_code_uniq"),
            models.UniqueConstraint(fields=["tenant", "id"], name="funding_program_tenant_id_uniq"),
        ]

    def __str__(self) -> str:
        return self.name


class Boarding(models.TextChoices):
    BOARDING = "Y", _("Boarders")  # 寄宿生
    DAY = "N", _("Day pupils")  # 走读生


class Standard(TenantModel):
    """资助标准: the amount per student and semester, for a stage, a tier and boarding or not.

    A blank stage, tier or boarding means "any" (blank, not NULL, so the unique constraint holds on every
    database); the most specific standard that fits a student wins.
    """

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="standards")
    semester = models.ForeignKey(Semester, on_delete=models.CASCADE, related_name="standards")
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, blank=True)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, blank=True)
    boarding = models.CharField(_("boarding"), max_length=1, choices=Boarding.choices, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), **MONEY, validators=[MinValueValidator(CENT)])

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("funding standard")
        verbose_name_plural = _("funding standards")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "program", "semester", "stage", "tier", "boarding"],
                name="funding_standard_uniq",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="funding_standard_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.program} {self.amount}"

    @property
    def specificity(self) -> int:
        return (self.stage != "") + (self.tier != "") + (self.boarding != "")


class Budget(TenantModel):
    """精准预算: per program, semester and school, computed from the students identified there, with the
    district's adjustment (and the tilt to rural schools); the quota the school's awards may not pass."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="budgets")
    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, related_name="budgets")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    planned_students = models.PositiveIntegerField(_("students planned"), default=0)
    planned_amount = models.DecimalField(_("amount planned"), **MONEY, default=ZERO)
    adjustment = models.DecimalField(_("district adjustment"), **MONEY, default=ZERO)
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope: ClassVar[Scope] = Scope(school="school")
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "program", "semester", "school"], name="funding_budget_uniq"),
            models.CheckConstraint(condition=Q(planned_amount__gte=0), name="funding_budget_planned_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.program} {self.semester} {self.school}"

    @property
    def quota(self) -> Decimal:
        return self.planned_amount + self.adjustment


class BudgetWaiver(TenantModel):
    """无预算审批: the district's recorded decision that a program's lists of a semester may be approved
    at schools that have no budget row (a program funded outside the budget, say). Without it an
    approval against no budget is refused; the decision and its withdrawal are audited."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="budget_waivers")
    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, related_name="budget_waivers")
    reason = models.CharField(_("reason"), max_length=200)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("approval without budget")
        verbose_name_plural = _("approvals without budget")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "program", "semester"], name="funding_budgetwaiver_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.program} {self.semester}"


class AwardListStatus(models.TextChoices):
    DRAFT = "DRAFT", _("Being prepared")  # the school officer reviews and adjusts
    PUBLICITY = "PUBLICITY", _("In publicity")  # published by the school (公示), then to the district
    APPROVED = "APPROVED", _("Approved by the district")


class AwardList(FSMModelMixin, TenantModel):
    """资助名单: one school's list for one program and semester, prepared by the school and approved by
    the district."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="award_lists")
    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, related_name="award_lists")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    status = FSMField(max_length=10, choices=AwardListStatus.choices, default=AwardListStatus.DRAFT, protected=True)
    published_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    notice_token = models.UUIDField(default=uuid.uuid4, editable=False)
    approved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)

    scope: ClassVar[Scope] = Scope(school="school")
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("award list")
        verbose_name_plural = _("award lists")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "program", "semester", "school"], name="funding_awardlist_uniq"),
            models.UniqueConstraint(fields=["tenant", "id"], name="funding_awardlist_tenant_id_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.school} {self.program} {self.semester}"

    # The list's states (funding.services.awards fires them):
    # DRAFT ─publish→ PUBLICITY ─approve→ APPROVED ─reopen (omissions found later)→ DRAFT

    @transition(field=status, source=AwardListStatus.DRAFT, target=AwardListStatus.PUBLICITY)
    def publish(self) -> None:
        """公示: the school publishes the list."""

    @transition(field=status, source=AwardListStatus.PUBLICITY, target=AwardListStatus.APPROVED)
    def approve(self) -> None:
        """The district approves it after the period (within the budget)."""

    @transition(field=status, source=AwardListStatus.APPROVED, target=AwardListStatus.DRAFT)
    def reopen(self) -> None:
        """Omissions (应助未助) join an approved list: it is prepared and published again."""


class AwardStatus(models.TextChoices):
    PROPOSED = "PROPOSED", _("Proposed")  # on a list being prepared
    APPROVED = "APPROVED", _("Approved")  # the district approved the list: payable
    REMOVED = "REMOVED", _("Removed from the list")  # by the school, before approval
    STOPPED = "STOPPED", _("Stopped")  # 停发: found wrong after approval


class Award(FSMModelMixin, TenantModel):
    """One student on one program's list for one semester, with the amount and why they are on it.

    A student has at most one award per program and semester (a database constraint); whether it is
    paid, failed or recovered is the business of its payment lines.
    """

    award_list = models.ForeignKey(AwardList, on_delete=models.PROTECT, related_name="awards")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="awards")
    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, related_name="awards")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="awards")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    klass = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(
        HardshipApplication, null=True, blank=True, on_delete=models.PROTECT, related_name="awards"
    )
    tier = models.CharField(max_length=10, choices=Tier.choices, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    status = FSMField(max_length=10, choices=AwardStatus.choices, default=AwardStatus.PROPOSED, protected=True)
    reason = models.CharField(_("why on the list"), max_length=200)
    status_reason = models.CharField(max_length=200, blank=True)
    added_late = models.BooleanField(default=False, help_text=_("added after the first batch (an omission)"))

    scope: ClassVar[Scope] = Scope(school="school", grade="grade", klass="klass")
    view_action: ClassVar[Action] = Action.FUNDING_VIEW

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "program", "semester", "student"], name="funding_award_one_per_student"
            ),
            models.UniqueConstraint(fields=["tenant", "id"], name="funding_award_tenant_id_uniq"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="funding_award_amount_positive"),
        ]
        indexes = [models.Index(fields=["tenant", "semester", "program", "status"], name="funding_award_list_idx")]

    def __str__(self) -> str:
        return f"{self.student} {self.program} {self.amount}"

    # PROPOSED ─approve→ APPROVED ─stop (a correction, 停发/追回)→ STOPPED ─reinstate (reversed)→ APPROVED
    # PROPOSED ─remove (by the school, before approval)→ REMOVED

    @transition(field=status, source=AwardStatus.PROPOSED, target=AwardStatus.APPROVED)
    def approve(self) -> None:
        """With its list, or alone (emergency aid)."""

    @transition(field=status, source=AwardStatus.PROPOSED, target=AwardStatus.REMOVED)
    def remove(self) -> None:
        """Taken off a list being prepared."""

    @transition(field=status, source=AwardStatus.APPROVED, target=AwardStatus.STOPPED)
    def stop(self) -> None:
        """Found wrong after approval: an approved stop or recovery."""

    @transition(field=status, source=AwardStatus.STOPPED, target=AwardStatus.APPROVED)
    def reinstate(self) -> None:
        """The correction itself was wrong: payable again."""
