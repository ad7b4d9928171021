"""The student register (学籍): who the students are, where they study, and how to reach their family."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from funding.infra.fields import BlindIndexField, EncryptedField
from schools.models import Grade, School, SchoolClass
from schools.permissions import Action, Scope
from schools.tenancy.models import TenantModel


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

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="students", verbose_name=_("school"))
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="students", verbose_name=_("grade"))
    klass = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="students", verbose_name=_("class"))
    name = models.CharField(_("name"), max_length=50)
    id_number = EncryptedField(_("ID number"), kind="id_number")
    id_number_hash = BlindIndexField(source="id_number")
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

    scope: ClassVar[Scope] = Scope(school="school", grade="grade", klass="klass")
    view_action: ClassVar[Action] = Action.STUDENT_VIEW

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        constraints = [
            # One register entry per child in a district: the "在籍不在校 / 在校不在籍" double entry is
            # impossible by construction.
            models.UniqueConstraint(fields=["tenant", "id_number_hash"], name="students_student_tenant_id_hash_uniq"),
            models.UniqueConstraint(fields=["tenant", "student_no_hash"], name="students_student_tenant_no_hash_uniq"),
        ]
        indexes = [
            models.Index(fields=["tenant", "school", "klass"], name="students_student_class_idx"),
            models.Index(fields=["tenant", "name"], name="students_student_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name
