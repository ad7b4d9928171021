"""宣传: each school's policy outreach in a semester — letters to families (致家长一封信, printable per
class), parents' and class meetings, home-visit talks, posters and boards, the media, the first lesson
of term — as seed 001's "32211" outreach and seed 004's channels name them. The district sees which
school has done which kind this semester (coverage)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.tenancy.models import TenantModel
from funding.models import Semester
from schools.models import School, SchoolClass, User
from schools.permissions import Action, Scope


class OutreachKind(models.TextChoices):
    LETTER = "LETTER", _("Letter to families")  # 致家长一封信
    PARENTS_MEETING = "PARENTS_MEETING", _("Parents' meeting")  # 家长会
    CLASS_MEETING = "CLASS_MEETING", _("Class meeting")  # 主题班会 / 开学第一课
    HOME_VISIT_TALK = "HOME_VISIT_TALK", _("Talk on a home visit")  # 入户宣讲 (千名教师访千家)
    POSTER = "POSTER", _("Poster or board")  # 宣传栏、黑板报、展板
    MEDIA = "MEDIA", _("Media")  # 电视、广播、报纸、微信平台


def _evidence_path(instance: OutreachRecord, filename: str) -> str:
    # Never a public URL: served by a permission-checked view; the original name stays in the row.
    return f"evidence/{instance.tenant_id}/outreach/{instance.pk}"


class OutreachRecord(TenantModel):
    """One piece of outreach a school did: when, what kind, for how many people, with optional
    evidence (a photo or scan, encrypted at rest by the default storage)."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, related_name="+")
    klass = models.ForeignKey(SchoolClass, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=OutreachKind.choices)
    held_on = models.DateField(_("date"))
    audience = models.PositiveIntegerField(_("people reached"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    evidence = models.FileField(_("evidence"), upload_to=_evidence_path, max_length=200, blank=True)
    evidence_name = models.CharField(max_length=200, blank=True)
    evidence_type = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope(school="school")
    view_action: ClassVar[Action] = Action.OUTREACH_VIEW

    class Meta:
        verbose_name = _("outreach record")
        verbose_name_plural = _("outreach records")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="oversight_outreach_tenant_id_uniq"),
            models.CheckConstraint(condition=Q(audience__gte=0), name="oversight_outreach_audience"),
        ]
        indexes = [models.Index(fields=["tenant", "semester", "school", "kind"], name="oversight_outreach_idx")]

    def __str__(self) -> str:
        return f"{self.school} {self.get_kind_display()} {self.held_on}"
