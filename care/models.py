"""控辍保学: dropout control. A class teacher records the day's absences (缺勤登记); an unexplained absence
opens (or extends) a case, which the rules of the district (`CareRules`) turn into a suspected dropout
(疑似辍学) after more than N school days; the school confirms it and persuades the pupil to return (劝返).

The case's states and transitions are declared here, once, on the model (django-fsm, protected);
`care.services` is the only code that fires them. A case names its "six chiefs" (六长) as
`CaseResponsible` rows and keeps the story of what was done as `CaseStep` rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.fields import EncryptedField
from core.tenancy.models import TenantModel
from schools import permissions
from schools.models import Grade, School, SchoolClass, User
from schools.permissions import Action, Scope
from students.models import Student


class CareRules(TenantModel):
    """The district's rules of dropout control (data, one row per tenant; without a row the defaults
    hold): when the school is told, when a home visit is due, when an absence makes a suspected dropout."""

    school_notice_days = models.PositiveSmallIntegerField(
        _("school told within (working days)"), default=0, help_text=_("0: the same day")
    )
    home_visit_days = models.PositiveSmallIntegerField(_("home visit due within (working days)"), default=1)
    suspected_after_days = models.PositiveSmallIntegerField(
        _("suspected dropout after more than (school days)"), default=5
    )
    # 1+1 结对帮扶: how many pupils one teacher looks after at most, and how often a paired family is visited.
    pairing_max_pupils = models.PositiveSmallIntegerField(_("pupils per paired teacher at most"), default=5)
    pairing_visit_days = models.PositiveSmallIntegerField(
        _("a paired family is visited every (days)"), default=90, help_text=_("when the next visit is not set")
    )
    # 每周按时填报: the weekly return is due on the week's last working day (holidays and make-up days
    # from the calendar), plus these working days, by this time (empty: the end of that day).
    weekly_due_days = models.PositiveSmallIntegerField(
        _("weekly return due (working days after the week's last working day)"), default=0
    )
    weekly_due_time = models.TimeField(
        _("weekly return due by (time)"), null=True, blank=True, help_text=_("empty: the end of the day")
    )

    view_action: ClassVar[Action] = Action.CARE_VIEW

    class Meta:
        verbose_name = _("dropout control rules")
        verbose_name_plural = _("dropout control rules")
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="care_rules_one_per_tenant"),
            models.UniqueConstraint(fields=["tenant", "id"], name="care_rules_tenant_id_uniq"),
            models.CheckConstraint(condition=Q(suspected_after_days__gte=1), name="care_rules_suspected_min_1"),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class AbsenceReason(models.TextChoices):
    SICK_LEAVE = "SICK_LEAVE", _("Sick leave")  # 病假
    PERSONAL_LEAVE = "PERSONAL_LEAVE", _("Personal leave")  # 事假
    UNEXPLAINED = "UNEXPLAINED", _("Unexplained")  # 无故缺勤


class CaseStatus(models.TextChoices):
    ABSENT = "ABSENT", _("Unexplained absence")  # 无故缺勤, being followed up
    SUSPECTED = "SUSPECTED", _("Suspected dropout")  # 疑似辍学
    CONFIRMED = "CONFIRMED", _("Confirmed dropout")  # 确认辍学
    PERSUADING = "PERSUADING", _("Persuasion under way")  # 劝返中
    RETURNED = "RETURNED", _("Returned to school")  # 已复学
    PLACED = "PLACED", _("Placed elsewhere")  # 已安置
    CLOSED = "CLOSED", _("Case closed")  # 已结案


#: A pupil has at most one case in these states.
OPEN_STATES = [CaseStatus.ABSENT, CaseStatus.SUSPECTED, CaseStatus.CONFIRMED, CaseStatus.PERSUADING]
C = CaseStatus


class Placement(models.TextChoices):
    """Where a pupil who does not come back is placed (安置)."""

    TRANSFERRED = "TRANSFERRED", _("Transferred to another school")  # 转学
    SPECIAL_EDUCATION = "SPECIAL_EDUCATION", _("Special-education school")  # 特殊教育学校
    HOME_TEACHING = "HOME_TEACHING", _("Home-delivered teaching")  # 送教上门


class NoticeLevel(models.IntegerChoices):
    """The ladder of written notices to the family (一册两表四书), from the school's first notice up."""

    RETURN_NOTICE = 1, _("Notice to return to school")  # 劝返复学告知书
    CORRECTION_ORDER = 2, _("Order to correct within a time limit")  # 责令限期改正通知书
    PENALTY_NOTICE = 3, _("Notice of administrative penalty")  # 行政处罚告知书


def _may(action: Action) -> Callable[[Any, Any], bool]:
    """A django-fsm permission: the user's role may perform `action` on this case."""

    def check(instance: Any, user: Any) -> bool:
        return permissions.can(user, action, instance)

    check.action = action  # type: ignore[attr-defined]
    return check


def _system_only(instance: Any, user: Any) -> bool:
    """Transitions the rules fire when absences are recorded; no person may."""
    return False


class DropoutCase(FSMModelMixin, TenantModel):
    """控辍保学个案: one pupil's run of unexplained absence, and what became of it."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="dropout_cases")
    # Where the pupil studied when the case opened: the class and school that follow it up.
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    klass = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    status = FSMField(_("status"), max_length=12, choices=CaseStatus.choices, default=C.ABSENT, protected=True)
    opened_on = models.DateField(_("first unexplained absence"))
    last_absent_on = models.DateField(_("latest unexplained absence"))
    absent_days = models.PositiveSmallIntegerField(_("school days absent without leave"), default=1)
    school_notice_on = models.DateField(_("school told on"))
    home_visit_due_on = models.DateField(_("home visit due"))
    suspected_on = models.DateField(_("suspected dropout on"), null=True, blank=True)
    decided_on = models.DateField(_("last decision on"), null=True, blank=True)
    placement = models.CharField(_("placement"), max_length=20, choices=Placement.choices, blank=True)
    close_reason = models.CharField(_("reason"), max_length=300, blank=True)
    opened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope(school="school", grade="grade", klass="klass")
    view_action: ClassVar[Action] = Action.CARE_VIEW

    class Meta:
        verbose_name = _("dropout case")
        verbose_name_plural = _("dropout cases")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "student"], condition=Q(status__in=OPEN_STATES), name="care_case_one_open_per_pupil"
            ),
            models.UniqueConstraint(fields=["tenant", "id"], name="care_case_tenant_id_uniq"),
            models.CheckConstraint(condition=Q(last_absent_on__gte=models.F("opened_on")), name="care_case_dates"),
            models.CheckConstraint(
                condition=~Q(status=C.CLOSED) | ~Q(close_reason=""), name="care_case_closed_has_reason"
            ),
            models.CheckConstraint(condition=~Q(status=C.PLACED) | ~Q(placement=""), name="care_case_placed_has_kind"),
        ]
        indexes = [models.Index(fields=["tenant", "school", "status"], name="care_case_queue_idx")]

    def __str__(self) -> str:
        return f"{self.student} {self.opened_on}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    # --- The case's way. Each method only moves the state; care.services locks, records and audits. ---

    @transition(field=status, source=C.ABSENT, target=C.SUSPECTED, permission=_system_only)
    def suspect(self) -> None:
        """More school days of unexplained absence than the rules allow: 疑似辍学."""

    @transition(field=status, source=C.ABSENT, target=C.RETURNED, permission=_system_only)
    def back_in_class(self) -> None:
        """The teacher recorded the pupil present again before the case went further."""

    @transition(field=status, source=C.SUSPECTED, target=C.CONFIRMED, permission=_may(Action.CASE_DECIDE))
    def confirm(self) -> None:
        """确认辍学: the school (or the district) confirms the pupil has left school."""

    @transition(field=status, source=C.CONFIRMED, target=C.PERSUADING, permission=_may(Action.CASE_DECIDE))
    def start_persuasion(self) -> None:
        """劝返: the named chiefs start persuading the family."""

    @transition(field=status, source=OPEN_STATES, target=C.RETURNED, permission=_may(Action.CASE_DECIDE))
    def mark_returned(self) -> None:
        """复学: the pupil is back at school."""

    @transition(field=status, source=[C.CONFIRMED, C.PERSUADING], target=C.PLACED, permission=_may(Action.CASE_DECIDE))
    def place(self) -> None:
        """安置: transferred, special-education school, or home-delivered teaching (送教上门)."""

    @transition(field=status, source=OPEN_STATES, target=C.CLOSED, permission=_may(Action.CASE_DECIDE))
    def close(self) -> None:
        """结案 with a reason (moved away and enrolled elsewhere, absence explained afterwards, …)."""


class Absence(TenantModel):
    """缺勤: one pupil absent on one school day, and why; recorded for the whole class in one submit."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="absences")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    klass = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    absent_on = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=16, choices=AbsenceReason.choices)
    case = models.ForeignKey(DropoutCase, null=True, blank=True, on_delete=models.PROTECT, related_name="absences")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope(school="school", grade="grade", klass="klass")
    view_action: ClassVar[Action] = Action.CARE_VIEW

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "student", "absent_on"], name="care_absence_one_per_day"),
            models.UniqueConstraint(fields=["tenant", "id"], name="care_absence_tenant_id_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "klass", "absent_on"], name="care_absence_class_day_idx")]

    def __str__(self) -> str:
        return f"{self.student} {self.absent_on} {self.get_reason_display()}"


class StepKind(models.TextChoices):
    HOME_VISIT = "HOME_VISIT", _("Home visit")  # 家访
    PHONE_CALL = "PHONE_CALL", _("Phone call with the family")  # 电话联系
    VILLAGE_MEETING = "VILLAGE_MEETING", _("Meeting with the village committee")  # 村委会
    WRITTEN_NOTICE = "WRITTEN_NOTICE", _("Written notice delivered")  # 送达告知书
    STATUS = "STATUS", _("Status change")  # the case moved (recorded by the services)
    OTHER = "OTHER", _("Other measure")


class CaseStep(TenantModel):
    """One thing done on a case: who, when, what, and when the next step is due."""

    case = models.ForeignKey(DropoutCase, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("what was done"), max_length=16, choices=StepKind.choices)
    done_on = models.DateField(_("date"))
    notes = models.TextField(_("notes"), blank=True)
    next_on = models.DateField(_("next step due"), null=True, blank=True)
    notice_level = models.PositiveSmallIntegerField(_("notice"), choices=NoticeLevel.choices, null=True, blank=True)
    from_status = models.CharField(max_length=12, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=CaseStatus.choices, blank=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope(school="case__school", grade="case__grade", klass="case__klass")
    view_action: ClassVar[Action] = Action.CARE_VIEW

    class Meta:
        verbose_name = _("case step")
        verbose_name_plural = _("case steps")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="care_step_tenant_id_uniq"),
            models.CheckConstraint(
                condition=~Q(kind="WRITTEN_NOTICE") | Q(notice_level__isnull=False), name="care_step_notice_level"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "case", "done_on"], name="care_step_case_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.done_on}"


class ChiefRole(models.TextChoices):
    """控辍保学"六长"责任制: the six people answerable for a pupil's return."""

    BUREAU_CHIEF = "BUREAU_CHIEF", _("Education bureau chief")  # 教体局局长
    TOWNSHIP_HEAD = "TOWNSHIP_HEAD", _("Township head")  # 镇长
    PRINCIPAL = "PRINCIPAL", _("Principal")  # 校长
    VILLAGE_HEAD = "VILLAGE_HEAD", _("Village head")  # 村长
    PARENT = "PARENT", _("Parent")  # 家长
    TEACHER = "TEACHER", _("Teacher")  # 师长


class CaseResponsible(TenantModel):
    """One of a case's six chiefs: a role, a named person (an account where one exists), a phone."""

    case = models.ForeignKey(DropoutCase, on_delete=models.CASCADE, related_name="responsibles")
    role = models.CharField(_("responsibility"), max_length=16, choices=ChiefRole.choices)
    name = models.CharField(_("name"), max_length=50)
    phone = EncryptedField(_("phone"), kind="phone", null=True, blank=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope(school="case__school", grade="case__grade", klass="case__klass")
    view_action: ClassVar[Action] = Action.CARE_VIEW

    class Meta:
        verbose_name = _("case responsible")
        verbose_name_plural = _("case responsibles")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "case", "role"], name="care_responsible_one_per_role"),
            models.UniqueConstraint(fields=["tenant", "id"], name="care_responsible_tenant_id_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.name}"


# --- 1+1 结对帮扶: pairing, and the watch list (issue 16, items 4 and 5) ---------------------------------


class Pairing(TenantModel):
    """结对帮扶: one teacher looks after one pupil (registered poor or especially difficult) until the
    pairing ends. A pupil has at most one current pairing; the history stays."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="pairings")
    # The pupil's school, grade and class when paired: who sees the pairing.
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    klass = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    teacher = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    started_on = models.DateField(_("paired on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope(school="school", grade="grade", klass="klass")
    view_action: ClassVar[Action] = Action.CARE_VIEW

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "student"], condition=Q(ended_on__isnull=True), name="care_pairing_one_current"
            ),
            models.UniqueConstraint(fields=["tenant", "id"], name="care_pairing_tenant_id_uniq"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")), name="care_pairing_dates"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "teacher", "ended_on"], name="care_pairing_teacher_idx")]

    def __str__(self) -> str:
        return f"{self.student} ↔ {self.teacher}"


class RiskKind(models.TextChoices):
    """Risk points of dropout control (seed 003) a teacher or the school records. Poverty tier and
    a disability category also come from the identification; the watch list reads both."""

    LEFT_BEHIND = "LEFT_BEHIND", _("Left-behind child")  # 留守儿童
    DISTANCE = "DISTANCE", _("Lives far from school")  # 路途遥远
    LEARNING = "LEARNING", _("Learning difficulty")  # 学习困难
    DISABILITY = "DISABILITY", _("Disability")  # 残疾
    POVERTY = "POVERTY", _("Family poverty")  # 家庭贫困


class RiskFlag(TenantModel):
    """A risk point recorded for a pupil: it puts the pupil on the watch list of the teacher and the
    school until it is cleared."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="risk_flags")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    klass = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("risk"), max_length=12, choices=RiskKind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    set_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope(school="school", grade="grade", klass="klass")
    view_action: ClassVar[Action] = Action.CARE_VIEW

    class Meta:
        verbose_name = _("risk flag")
        verbose_name_plural = _("risk flags")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "student", "kind"], name="care_risk_one_per_kind"),
            models.UniqueConstraint(fields=["tenant", "id"], name="care_risk_tenant_id_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.get_kind_display()}"


# --- 每周按时填报: the weekly return (issue 16, item 3) ----------------------------------------------------


class WeeklyReturnStatus(models.TextChoices):
    DUE = "DUE", _("Not submitted")  # 未填报 (a row exists once the school was reminded)
    SUBMITTED = "SUBMITTED", _("Submitted")  # 已填报


class WeeklyReturn(FSMModelMixin, TenantModel):
    """每周按时填报: one school's weekly return of its dropouts and suspected dropouts (zero returns too).

    The counts are computed from the cases when the school submits (the officer reviews them first);
    the deadline and whether the return came late are fixed at that moment from the district's rules
    and working-day calendar. A row in DUE is a reminder the scheduled task left for a late school."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    week_start = models.DateField(_("week of"))  # the Monday
    status = FSMField(
        _("status"), max_length=10, choices=WeeklyReturnStatus.choices, default=WeeklyReturnStatus.DUE, protected=True
    )
    due_on = models.DateField(_("due on"))
    dropouts = models.PositiveIntegerField(_("dropouts"), default=0)  # 辍学 (confirmed, being persuaded)
    suspected = models.PositiveIntegerField(_("suspected dropouts"), default=0)  # 疑似辍学
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    is_late = models.BooleanField(_("late"), default=False)
    submitted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    scope: ClassVar[Scope] = Scope(school="school")
    view_action: ClassVar[Action] = Action.WEEKLY_RETURN_VIEW

    class Meta:
        verbose_name = _("weekly return")
        verbose_name_plural = _("weekly returns")
        constraints = [
            # One return per school and week: a double click cannot file two.
            models.UniqueConstraint(fields=["tenant", "school", "week_start"], name="care_weekly_one_per_week"),
            models.UniqueConstraint(fields=["tenant", "id"], name="care_weekly_tenant_id_uniq"),
            models.CheckConstraint(
                condition=~Q(status="SUBMITTED") | Q(submitted_by__isnull=False, submitted_at__isnull=False),
                name="care_weekly_submitted_by_whom",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "week_start", "status"], name="care_weekly_week_idx")]

    def __str__(self) -> str:
        return f"{self.school} {self.week_start}"

    @transition(
        field=status,
        source=WeeklyReturnStatus.DUE,
        target=WeeklyReturnStatus.SUBMITTED,
        permission=_may(Action.WEEKLY_RETURN_SUBMIT),
    )
    def submit(self) -> None:
        """The school's officer submits the week's return (once: a return is not edited afterwards)."""
