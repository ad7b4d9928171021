"""The student register (学籍): who the students are, where they study, and how to reach their family."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.fields import BlindIndexField, CodeField, EncryptedField
from core.tenancy.models import TenantModel, tenant_key_proved_elsewhere
from schools.models import Grade, School, SchoolClass
from schools.permissions import Action, Scope


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class EnrollmentStatus(models.TextChoices):
    """学籍状态: only attending students are funded; the others end funding."""

    ATTENDING = "ATTENDING", _("Attending")  # 在校
    SUSPENDED = "SUSPENDED", _("Suspended")  # 休学
    TRANSFERRED_OUT = "TRANSFERRED_OUT", _("Transferred out")  # 转出
    DROPPED_OUT = "DROPPED_OUT", _("Dropped out")  # 辍学
    GRADUATED = "GRADUATED", _("Graduated")  # 毕业


class Hukou(models.TextChoices):
    """户籍: household registration; rural students get priority."""

    RURAL = "RURAL", _("Rural")  # 农村
    URBAN = "URBAN", _("Urban")  # 城镇


class Student(TenantModel):
    """学生: one child on the district's register, identified by the national ID number."""

    # The composite key (tenant, school, grade, class) → the class row (migration 0002) proves that the
    # class exists in this tenant, in this school and grade; the class row's own keys prove the rest. The
    # single-column keys Django would add repeat that proof, one trigger per row and key when a roster
    # of 100,000 pupils lands (docs/benchmarks.md), so they are not declared. Likewise the indexes that
    # an index starting with the tenant covers.
    tenant = tenant_key_proved_elsewhere()
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        related_name="students",
        verbose_name=_("school"),
        db_constraint=False,
        db_index=False,
    )
    grade = models.ForeignKey(
        Grade, on_delete=models.PROTECT, related_name="students", verbose_name=_("grade"), db_constraint=False
    )
    klass = models.ForeignKey(
        SchoolClass, on_delete=models.PROTECT, related_name="students", verbose_name=_("class"), db_constraint=False
    )
    name = models.CharField(_("name"), max_length=50)
    id_number = EncryptedField(_("ID number"), kind="id_number")
    id_number_hash = BlindIndexField(source="id_number")
    # The last four characters' keyed index: the search box finds a pupil by the digits the masked number
    # shows (students.filters.pupil_search). Null until `id_tail_backfill` has filled pupils written before it.
    id_tail_hash = BlindIndexField(source="id_number", tail=4, null=True)
    # 学籍号 is usually "G" + the ID number, so it is protected like one.
    student_no = EncryptedField(
        _("registration number"), kind="student_no", null=True, blank=True, help_text=_("学籍号")
    )
    student_no_hash = BlindIndexField(source="student_no", null=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    enrollment_status = models.CharField(
        _("enrollment status"),
        max_length=20,
        choices=EnrollmentStatus.choices,
        default=EnrollmentStatus.ATTENDING,
    )
    is_boarding = models.BooleanField(_("boarding"), default=False)
    hukou = models.CharField(_("household registration"), max_length=10, choices=Hukou.choices)
    township = models.CharField(_("township"), max_length=50, blank=True)
    village = models.CharField(_("village or community"), max_length=50, blank=True)
    phone = EncryptedField(_("contact phone"), kind="phone", null=True, blank=True)
    # The funding card (资助卡 / 社保卡) money is paid into: the pupil's or a guardian's.
    card_bank = models.CharField(_("bank"), max_length=50, blank=True)
    card_account = EncryptedField(_("account number"), kind="account", null=True, blank=True)
    card_account_hash = BlindIndexField(source="card_account", null=True)
    card_holder = models.CharField(_("account holder"), max_length=50, blank=True)
    # A keyed hash of the last imported roster row: re-importing an unchanged row changes nothing.
    roster_fingerprint = CodeField(max_length=32, blank=True, editable=False)

    scope: ClassVar[Scope] = Scope(school="school", grade="grade", klass="klass")
    view_action: ClassVar[Action] = Action.STUDENT_VIEW

    audit_exclude = frozenset({"created_at", "updated_at", "roster_fingerprint"})

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        constraints = [
            # One register entry per child in a district: the "在籍不在校 / 在校不在籍" double entry is
            # impossible by construction.
            models.UniqueConstraint(fields=["tenant", "id_number_hash"], name="students_student_tenant_id_hash_uniq"),
            models.UniqueConstraint(fields=["tenant", "student_no_hash"], name="students_student_tenant_no_hash_uniq"),
            models.UniqueConstraint(fields=["tenant", "id"], name="students_student_tenant_id_uniq"),
        ]
        # No index on the name: pupils are found by a fragment of it (LIKE '%…%', which a B-tree cannot
        # serve) and sorted by it only within a school's classes; the index cost a roster import about a
        # tenth of the pupils' index work.
        indexes = [
            models.Index(fields=["tenant", "school", "klass"], name="students_student_class_idx"),
            # Exact matches only: no pattern-ops twin (Django adds one to an indexed CharField).
            models.Index(fields=["tenant", "card_account_hash"], name="students_student_card_idx"),
            # The search box's last digits of an ID number (about one pupil in 10,000 shares them).
            models.Index(fields=["tenant", "id_tail_hash"], name="students_student_id_tail_idx"),
            # The pupils who dropped out (控辍保学), counted in the worklist of everyone who follows them up
            # (the side menu and home page of every school and district role): a few rows instead of a scan
            # of the register (0.1 s at 100,000 pupils). Partial: a roster import of attending pupils pays
            # nothing for it.
            models.Index(
                fields=["tenant", "school", "klass"],
                condition=Q(enrollment_status="DROPPED_OUT"),
                name="students_student_dropped_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class GuardianRelation(models.TextChoices):
    FATHER = "FATHER", _("Father")  # 父亲
    MOTHER = "MOTHER", _("Mother")  # 母亲
    GRANDPARENT = "GRANDPARENT", _("Grandparent")  # 祖父母 / 外祖父母
    OTHER = "OTHER", _("Other guardian")  # 其他监护人


class Guardian(TenantModel):
    """监护人: registries often list the parent, not the child, so a guardian's ID number is matched too."""

    # As for Student: the composite key (tenant, student) → the pupil proves both single-column keys,
    # and the unique (tenant, student, position) index finds a pupil's guardians (every query names
    # the tenant: the scoping manager, and row-level security on PostgreSQL).
    tenant = tenant_key_proved_elsewhere()
    student = models.ForeignKey(
        Student,
        on_delete=models.CASCADE,
        related_name="guardians",
        verbose_name=_("student"),
        db_constraint=False,
        db_index=False,
    )
    position = models.PositiveSmallIntegerField(_("order"), default=1, help_text=_("1 or 2, as in the roster"))
    name = models.CharField(_("name"), max_length=50)
    relation = models.CharField(_("relation"), max_length=12, choices=GuardianRelation.choices)
    id_number = EncryptedField(_("ID number"), kind="id_number", null=True, blank=True)
    id_number_hash = BlindIndexField(source="id_number", null=True)
    phone = EncryptedField(_("phone"), kind="phone", null=True, blank=True)

    scope: ClassVar[Scope] = Scope(school="student__school", grade="student__grade", klass="student__klass")
    view_action: ClassVar[Action] = Action.STUDENT_VIEW
    #: A roster import records a pupil's guardians inside the pupil's audit event (this key of its
    #: before/after: a list of the guardians' values, each with its id): one roster row, one event.
    #: A guardian saved on its own (admin, API) has events of its own, as every model.
    audited_inside: ClassVar[tuple[str, str]] = ("student", "guardians")

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "student", "position"], name="students_guardian_position_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "id_number_hash"], name="students_guardian_id_hash_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relation_display()})"


class StatusChange(TenantModel):
    """学籍变动: one change of a pupil's enrollment status, with its date and why (history, never edited)."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=EnrollmentStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=EnrollmentStatus.choices)
    changed_on = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=20, default="manual")  # manual / roster import

    scope: ClassVar[Scope] = Scope(school="student__school", grade="student__grade", klass="student__klass")
    view_action: ClassVar[Action] = Action.STUDENT_VIEW

    class Meta:
        verbose_name = _("enrollment status change")
        verbose_name_plural = _("enrollment status changes")
        indexes = [models.Index(fields=["tenant", "student", "changed_on"], name="students_statuschange_idx")]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status} ({self.changed_on})"
