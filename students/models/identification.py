"""家庭经济困难学生认定: the identification of students from families in economic difficulty.

An application (申请) per student and academic year moves up the review chain: class evaluation
(班级评议) → grade investigation (级部调查) → school review with the village committee (学校审核) →
publicity (公示) → district re-check (区县复查) → identified (认定). The transitions are declared here,
once, on the model (django-fsm); `students.identification.workflow` is the only code that fires them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.tenancy.models import TenantModel
from schools import permissions
from schools.models import Grade, School, SchoolClass, User
from schools.permissions import Action, Scope

from .register import Student


class Tier(models.TextChoices):
    """分档: the level of difficulty, from lowest to highest; funding differs by tier."""

    GENERAL = "GENERAL", _("General difficulty")  # 一般困难
    DIFFICULT = "DIFFICULT", _("Difficulty")  # 困难
    SPECIAL = "SPECIAL", _("Especially difficult")  # 特别困难

    @classmethod
    def rank(cls, value: str) -> int:
        return list(cls.values).index(value)


class HardshipCategory(TenantModel):
    """困难类别: a population category (低保, 孤儿, 脱贫户, …). Tenant data, seeded with the national list.

    Special categories (`is_special`) need no proof documents and suggest the tenant's highest tier;
    the others need only the main proof.
    """

    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=50)
    source = models.CharField(
        _("registry"), max_length=50, blank=True, help_text=_("the department that keeps the list")
    )
    is_special = models.BooleanField(_("special category"), default=False)
    sort_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.SCHOOL_VIEW

    class Meta:
        verbose_name = _("hardship category")
        verbose_name_plural = _("hardship categories")
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="students_category_tenant_code_uniq")]

    def __str__(self) -> str:
        return self.name


class ApplicationStatus(models.TextChoices):
    CLASS_EVALUATION = "CLASS_EVALUATION", _("Class evaluation")  # 班级评议
    GRADE_REVIEW = "GRADE_REVIEW", _("Grade investigation")  # 级部调查
    SCHOOL_REVIEW = "SCHOOL_REVIEW", _("School review")  # 学校审核
    SCHOOL_APPROVED = "SCHOOL_APPROVED", _("Awaiting publicity")  # 待公示
    PUBLICITY = "PUBLICITY", _("In publicity")  # 公示中
    DISTRICT_REVIEW = "DISTRICT_REVIEW", _("District re-check")  # 区县复查
    IDENTIFIED = "IDENTIFIED", _("Identified")  # 认定通过
    REJECTED = "REJECTED", _("Not identified")  # 不予认定
    WITHDRAWN = "WITHDRAWN", _("Withdrawn")  # 已撤回


#: States in which an application is still alive (a student has at most one per academic year).
LIVE_STATES = [
    s for s in ApplicationStatus.values if s not in (ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN)
]
S = ApplicationStatus


def _may(action: Action):
    """A django-fsm permission: the user's role may perform `action` on this application."""

    def check(instance: Any, user: Any) -> bool:
        return permissions.can(user, action, instance)

    check.action = action  # type: ignore[attr-defined]
    return check


def _has_materials(app: HardshipApplication) -> bool:
    return app.materials_complete


def _village_confirmed(app: HardshipApplication) -> bool:
    return bool(app.village_confirmed_by and app.village_confirmed_on)


def _class_evaluated(app: HardshipApplication) -> bool:
    return bool(app.class_evaluation.strip())


def _system_only(instance: Any, user: Any) -> bool:
    """Transitions the system fires (the end of a publicity period); no person may."""
    return False


class HardshipApplication(FSMModelMixin, TenantModel):
    """认定申请: one student's application for one academic year, and its way up the review chain."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="applications")
    # Where the student studied when nominated: the school that reviews and publishes the application.
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    klass = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    academic_year = models.PositiveSmallIntegerField(_("academic year"), help_text=_("the year it starts"))
    status = FSMField(
        _("status"), max_length=20, choices=ApplicationStatus.choices, default=S.CLASS_EVALUATION, protected=True
    )
    nominated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    proposed_tier = models.CharField(_("proposed tier"), max_length=10, choices=Tier.choices)
    categories = models.JSONField(_("special categories"), default=list, blank=True)
    family_situation = models.TextField(_("family situation"))
    suggested_tier = models.CharField(_("suggested tier"), max_length=10, choices=Tier.choices, blank=True)
    suggestion_reason = models.CharField(_("why this tier is suggested"), max_length=200, blank=True)
    # 家访 / 入户调查
    visit_on = models.DateField(_("home visit date"), null=True, blank=True)
    visit_by = models.CharField(_("visited by"), max_length=100, blank=True)
    visit_findings = models.TextField(_("home visit findings"), blank=True)
    # 班级评议: the class committee's result, recorded by the teacher
    class_evaluation = models.TextField(_("class evaluation"), blank=True)
    # 村委会/居委会: the committee's confirmation of the family's situation, recorded by the school
    village_confirmed_by = models.CharField(_("confirmed by (village committee)"), max_length=100, blank=True)
    village_confirmed_on = models.DateField(_("confirmed on"), null=True, blank=True)
    # The result: the tier that holds for the academic year (adjusted mid-year through TierAdjustment).
    tier = models.CharField(_("identified tier"), max_length=10, choices=Tier.choices, blank=True)
    identified_on = models.DateField(_("identified on"), null=True, blank=True)
    # Whether the materials rule is met (special category: none needed; otherwise the main proof).
    materials_complete = models.BooleanField(default=False, editable=False)
    # 迁移: identified before the district used this product, brought in from its list (the review
    # chain's steps are recorded with their historical dates, not walked again).
    migrated = models.BooleanField(_("migrated"), default=False, editable=False)

    scope: ClassVar[Scope] = Scope(school="school", grade="grade", klass="klass")
    view_action: ClassVar[Action] = Action.APPLICATION_VIEW

    class Meta:
        verbose_name = _("hardship application")
        verbose_name_plural = _("hardship applications")
        constraints = [
            # At most one live application per student and academic year (rejected or withdrawn ones
            # may be followed by a new one).
            models.UniqueConstraint(
                fields=["tenant", "student", "academic_year"],
                condition=Q(status__in=LIVE_STATES),
                name="students_application_one_live_per_year",
            ),
            models.UniqueConstraint(fields=["tenant", "id"], name="students_application_tenant_id_uniq"),
        ]
        indexes = [
            models.Index(fields=["tenant", "school", "status"], name="students_application_queue_idx"),
            # The home page's count of this year's applications by school and step, read from the index
            # alone (7 ms instead of 17–33 ms at a district's 33,000).
            models.Index(fields=["tenant", "academic_year", "school", "status"], name="students_application_year_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.academic_year}"

    # --- The review chain. Each method only moves the state; workflow.py locks, records and audits. ---

    @transition(
        field=status,
        source=S.CLASS_EVALUATION,
        target=S.GRADE_REVIEW,
        permission=_may(Action.APPLICATION_CLASS_REVIEW),
        conditions=[_class_evaluated, _has_materials],
    )
    def class_approve(self) -> None:
        """班级评议 passed: on to the grade."""

    @transition(
        field=status, source=S.CLASS_EVALUATION, target=S.REJECTED, permission=_may(Action.APPLICATION_CLASS_REVIEW)
    )
    def class_reject(self) -> None:
        """The class committee found no difficulty."""

    @transition(
        field=status, source=S.CLASS_EVALUATION, target=S.WITHDRAWN, permission=_may(Action.APPLICATION_NOMINATE)
    )
    def withdraw(self) -> None:
        """The teacher takes the nomination back (before anyone above has seen it)."""

    @transition(
        field=status, source=S.GRADE_REVIEW, target=S.SCHOOL_REVIEW, permission=_may(Action.APPLICATION_GRADE_REVIEW)
    )
    def grade_approve(self) -> None:
        """级部调查 confirmed the situation."""

    @transition(
        field=status, source=S.GRADE_REVIEW, target=S.CLASS_EVALUATION, permission=_may(Action.APPLICATION_GRADE_REVIEW)
    )
    def grade_return(self) -> None:
        """Back to the class teacher, with the reason."""

    @transition(
        field=status, source=S.GRADE_REVIEW, target=S.REJECTED, permission=_may(Action.APPLICATION_GRADE_REVIEW)
    )
    def grade_reject(self) -> None:
        pass

    @transition(
        field=status,
        source=S.SCHOOL_REVIEW,
        target=S.SCHOOL_APPROVED,
        permission=_may(Action.APPLICATION_SCHOOL_REVIEW),
        conditions=[_village_confirmed],
    )
    def school_approve(self) -> None:
        """学校审核 with the village committee's confirmation: ready for the publicity list."""

    @transition(
        field=status, source=S.SCHOOL_REVIEW, target=S.GRADE_REVIEW, permission=_may(Action.APPLICATION_SCHOOL_REVIEW)
    )
    def school_return(self) -> None:
        pass

    @transition(
        field=status, source=S.SCHOOL_REVIEW, target=S.REJECTED, permission=_may(Action.APPLICATION_SCHOOL_REVIEW)
    )
    def school_reject(self) -> None:
        pass

    @transition(field=status, source=S.SCHOOL_APPROVED, target=S.PUBLICITY, permission=_may(Action.PUBLICITY_MANAGE))
    def publish(self) -> None:
        """On a published list (公示)."""

    @transition(field=status, source=S.PUBLICITY, target=S.SCHOOL_REVIEW, permission=_may(Action.PUBLICITY_MANAGE))
    def objection_upheld(self) -> None:
        """An objection was upheld: off the list, back to the school's review."""

    @transition(field=status, source=S.PUBLICITY, target=S.DISTRICT_REVIEW, permission=_system_only)
    def publicity_passed(self) -> None:
        """The publicity period ended with no objection standing: on to the district."""

    @transition(
        field=status, source=S.DISTRICT_REVIEW, target=S.IDENTIFIED, permission=_may(Action.APPLICATION_DISTRICT_REVIEW)
    )
    def district_approve(self) -> None:
        """区县复查 confirmed: identified for the academic year."""

    @transition(
        field=status,
        source=S.DISTRICT_REVIEW,
        target=S.SCHOOL_REVIEW,
        permission=_may(Action.APPLICATION_DISTRICT_REVIEW),
    )
    def district_return(self) -> None:
        pass

    @transition(
        field=status, source=S.DISTRICT_REVIEW, target=S.REJECTED, permission=_may(Action.APPLICATION_DISTRICT_REVIEW)
    )
    def district_reject(self) -> None:
        pass

    @transition(
        field=status, source=S.CLASS_EVALUATION, target=S.IDENTIFIED, permission=_may(Action.IDENTIFICATION_MIGRATE)
    )
    def migrate(self) -> None:
        """迁移: identified by an earlier system or on paper; the district's list is the evidence, and
        the steps are recorded as migrated decisions with their own dates."""


class Decision(models.TextChoices):
    NOMINATE = "NOMINATE", _("Nominated")
    APPROVE = "APPROVE", _("Approved")
    RETURN = "RETURN", _("Returned")
    REJECT = "REJECT", _("Rejected")
    WITHDRAW = "WITHDRAW", _("Withdrawn")
    PUBLISH = "PUBLISH", _("Published")
    OBJECTION_UPHELD = "OBJECTION_UPHELD", _("Objection upheld")
    PUBLICITY_PASSED = "PUBLICITY_PASSED", _("Publicity passed")
    TIER_OVERRULED = "TIER_OVERRULED", _("Tier set by the reviewer")
    TIER_ADJUSTED = "TIER_ADJUSTED", _("Tier adjusted mid-year")


class ApplicationDecision(TenantModel):
    """One step of an application's story: who decided what, at which step, and why (一生一档)."""

    application = models.ForeignKey(HardshipApplication, on_delete=models.CASCADE, related_name="decisions")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    from_status = models.CharField(max_length=20, choices=ApplicationStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ApplicationStatus.choices, blank=True)
    tier = models.CharField(max_length=10, choices=Tier.choices, blank=True)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    # The day of the step when it is not the day the row was written: a migrated step keeps the date of
    # the earlier system's list (created_at is then the day of the import).
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    migrated = models.BooleanField(_("migrated"), default=False)

    scope: ClassVar[Scope] = Scope(school="application__school", grade="application__grade", klass="application__klass")
    view_action: ClassVar[Action] = Action.APPLICATION_VIEW

    class Meta:
        verbose_name = _("application decision")
        verbose_name_plural = _("application decisions")
        indexes = [models.Index(fields=["tenant", "application", "created_at"], name="students_decision_app_idx")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} {self.from_status}→{self.to_status}"


class AttachmentKind(models.TextChoices):
    MAIN_PROOF = "MAIN_PROOF", _("Main proof of the difficulty")  # 主要证明材料
    OTHER = "OTHER", _("Other document")


def _attachment_path(instance: Attachment, filename: str) -> str:
    # Never a public URL: files are served by a permission-checked view. The original name is kept
    # in the row, not in the path.
    return f"evidence/{instance.tenant_id}/{instance.application_id}/{instance.pk}"


class Attachment(TenantModel):
    """Evidence attached to an application (a certificate, a hospital record …)."""

    application = models.ForeignKey(HardshipApplication, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=12, choices=AttachmentKind.choices)
    file = models.FileField(upload_to=_attachment_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope(school="application__school", grade="application__grade", klass="application__klass")
    view_action: ClassVar[Action] = Action.APPLICATION_VIEW

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class TierAdjustmentStatus(models.TextChoices):
    PROPOSED = "PROPOSED", _("Proposed")
    APPROVED = "APPROVED", _("Approved")
    REJECTED = "REJECTED", _("Rejected")


class TierAdjustment(FSMModelMixin, TenantModel):
    """动态调整: a mid-year change of an identified tier, proposed by the school and decided by the
    district (a shorter review than the full chain); the history stays."""

    application = models.ForeignKey(HardshipApplication, on_delete=models.CASCADE, related_name="adjustments")
    from_tier = models.CharField(max_length=10, choices=Tier.choices)
    to_tier = models.CharField(_("new tier"), max_length=10, choices=Tier.choices)
    reason = models.TextField(_("reason"))
    status = FSMField(
        max_length=10, choices=TierAdjustmentStatus.choices, default=TierAdjustmentStatus.PROPOSED, protected=True
    )
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decision_reason = models.TextField(blank=True)

    scope: ClassVar[Scope] = Scope(school="application__school", grade="application__grade", klass="application__klass")
    view_action: ClassVar[Action] = Action.APPLICATION_VIEW

    class Meta:
        verbose_name = _("tier adjustment")
        verbose_name_plural = _("tier adjustments")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "application"],
                condition=Q(status="PROPOSED"),
                name="students_adjustment_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_tier} → {self.to_tier}"

    # PROPOSED ─approve / reject (the district)→ APPROVED / REJECTED

    @transition(field=status, source=TierAdjustmentStatus.PROPOSED, target=TierAdjustmentStatus.APPROVED)
    def approve(self) -> None:
        """The tier changes from today; the history stays."""

    @transition(field=status, source=TierAdjustmentStatus.PROPOSED, target=TierAdjustmentStatus.REJECTED)
    def reject(self) -> None:
        """Refused, with the reason."""


class IdentifiedSummary(TenantModel):
    """认定汇总: how many applications of an academic year are identified at one (school, grade), by
    tier and special categories: the dashboard's identified pupils, as it computes them from the
    applications (`students.identification.summary`). Stage comes from the grade, rural or urban and
    the township from the school, at reading time, so editing a school moves its pupils. Kept in step
    in the transaction of every service that identifies an application or changes an identified one's
    tier (the district's approval, a tier adjustment, a migrated list), rebuilt with the money summary.
    Derived, never edited; the school's audit rows stand for it (`audited_with`)."""

    academic_year = models.PositiveSmallIntegerField(_("academic year"))
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="+")
    tier = models.CharField(_("identified tier"), max_length=10, choices=Tier.choices, blank=True)
    categories = models.JSONField(_("special categories"), default=list, blank=True)
    pupils = models.PositiveIntegerField(_("pupils"), default=0)

    scope: ClassVar[Scope] = Scope(school="school", grade="grade")
    view_action: ClassVar[Action] = Action.APPLICATION_VIEW
    audited_with: ClassVar[str] = "school"

    class Meta:
        verbose_name = _("identified summary")
        verbose_name_plural = _("identified summaries")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="students_identsum_tenant_id_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "academic_year", "school"], name="students_identsum_year_idx")]

    def __str__(self) -> str:
        return f"{self.academic_year} {self.school_id} {self.grade_id} {self.tier}"
