"""家访 / 走访: a visit to a pupil's family, the one record of it whoever made it and why.

It lives here, on the students floor, because two floors write it: the identification's nomination
(入户调查, `students.identification.workflow`) and care's 1+1 pairing (结对帮扶走访, `care.services`),
and students may not import care. The student's file (一生一档) reads it from here. See
docs/architecture.md, "Dropout control", for the decision.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.tenancy.models import TenantModel
from schools.models import Grade, School, SchoolClass, User
from schools.permissions import Action, Scope

from .identification import HardshipApplication
from .register import Student


class VisitPurpose(models.TextChoices):
    IDENTIFICATION = "IDENTIFICATION", _("Identification home visit")  # 认定入户调查
    PAIRING = "PAIRING", _("Pairing visit")  # 结对帮扶走访


class HomeVisit(TenantModel):
    """One visit to a pupil's family: when, who went and who was met, the situation, the needs, the
    follow-ups promised, and when the next visit is due."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="home_visits")
    # Where the pupil studied on the day: the units that see the visit.
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    klass = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(_("purpose"), max_length=16, choices=VisitPurpose.choices)
    # The nomination whose home visit this is (at most one per nomination).
    application = models.ForeignKey(
        HardshipApplication, null=True, blank=True, on_delete=models.CASCADE, related_name="home_visits"
    )
    visited_on = models.DateField(_("visit date"))
    visitor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    visitor_name = models.CharField(_("visited by"), max_length=100, blank=True)
    met = models.CharField(_("who was met"), max_length=200, blank=True)
    situation = models.TextField(_("the family's situation"), blank=True)
    needs = models.TextField(_("needs"), blank=True)
    follow_ups = models.TextField(_("follow-ups"), blank=True)
    next_due_on = models.DateField(_("next visit due"), null=True, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope(school="school", grade="grade", klass="klass")
    view_action: ClassVar[Action] = Action.CARE_VIEW

    class Meta:
        verbose_name = _("home visit")
        verbose_name_plural = _("home visits")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="students_visit_tenant_id_uniq"),
            models.UniqueConstraint(
                fields=["tenant", "application"],
                condition=Q(application__isnull=False),
                name="students_visit_one_per_application",
            ),
            models.CheckConstraint(
                condition=Q(next_due_on__isnull=True) | Q(next_due_on__gte=models.F("visited_on")),
                name="students_visit_next_after",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "student", "visited_on"], name="students_visit_pupil_idx")]

    def __str__(self) -> str:
        return f"{self.student} {self.visited_on}"
