"""跨区县重复资助: one pupil funded by the same program and semester in two districts, or enrolled in one
and funded in another, found through the PLATFORM's keyed hash of the ID number.

Two sides, two kinds of table (docs/architecture.md, "Duplicates across districts"):

- `PlatformFact` is the platform's: one row per fact the matching needs (a pupil attends school in a
  district; a pupil holds an approved award of a program for a semester), keyed by the platform hash.
  It has no `tenant` column (a `district` instead), so it is no tenant table; row-level security on it
  admits only a session with NO tenant set: inside any district's transaction it has no rows at all.
- `CrossDistrictPass` and `CrossDistrictMatch` are each district's own (tenant tables): what one pass
  of the matching told this district, with nothing of the other district but its name, the program
  and the semester. No hash, no number, no id of the other district's rows.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import CodeField
from core.tenancy.models import TenantModel
from schools.permissions import Action, Scope


class FactKind(models.TextChoices):
    ENROLLED = "ENROLLED", _("Attending school")  # 在籍在校
    FUNDED = "FUNDED", _("Funded")  # an approved award


class PlatformFact(models.Model):
    """The platform's table: what the matching joins on. Written and read only by the platform pass,
    outside every tenant's transaction (row-level security refuses it inside one)."""

    id = models.BigAutoField(primary_key=True)
    # No key and no index beyond the primary key: the table is written whole by one COPY a pass (only
    # the facts of pupils in two districts, a few thousand) and read whole by one hash join.
    district = models.ForeignKey(
        "schools.Tenant", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    student_id = models.UUIDField()  # the district's pupil: only the district's own side is ever told
    id_hash = CodeField(max_length=64)  # HMAC-SHA-256 under PLATFORM_MATCH_KEY (core.crypto.platform_hasher)
    fact = models.CharField(max_length=8, choices=FactKind.choices)
    semester_code = models.CharField(max_length=12, blank=True)  # "2026-AUTUMN"; funded facts only
    program_code = models.CharField(max_length=40, blank=True)
    program_name = models.CharField(max_length=100, blank=True)
    award_id = models.UUIDField(null=True)

    class Meta:
        verbose_name = _("platform fact")
        verbose_name_plural = _("platform facts")

    def __str__(self) -> str:
        return f"{self.fact} {self.semester_code} {self.program_code}".strip()


class MatchCase(models.TextChoices):
    FUNDED_TWICE = "FUNDED_TWICE", _("Funded here and in another district")  # 两地同项目同学期资助
    FUNDED_THERE = "FUNDED_THERE", _("Attends school here, funded in another district")  # 此地在籍，彼地资助
    ENROLLED_THERE = "ENROLLED_THERE", _("Funded here, attends school in another district")  # 此地资助，彼地在籍


class CrossDistrictPass(TenantModel):
    """One pass of the platform's matching, as this district was told it: when, how many matches. Its
    audit row stands for its matches (written in bulk)."""

    finished_at = models.DateTimeField(_("finished at"))
    semesters = models.JSONField(_("semesters"), default=list)  # the semester codes the pass matched
    counts = models.JSONField(default=dict, blank=True)

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.RECONCILIATION_VIEW

    class Meta:
        verbose_name = _("cross-district matching")
        verbose_name_plural = _("cross-district matchings")
        constraints = [models.UniqueConstraint(fields=["tenant", "id"], name="audits_xpass_tenant_id_uniq")]
        indexes = [models.Index(fields=["tenant", "finished_at"], name="audits_xpass_finished_idx")]

    def __str__(self) -> str:
        return f"{self.finished_at:%Y-%m-%d %H:%M}"


class CrossDistrictMatch(TenantModel):
    """ "This pupil of yours is also funded elsewhere, in district X (program, semester)": this
    district's pupil and, of the other district, only its name, the program and the semester."""

    platform_pass = models.ForeignKey(CrossDistrictPass, on_delete=models.CASCADE, related_name="matches")
    case = models.CharField(_("case"), max_length=16, choices=MatchCase.choices)
    student = models.ForeignKey("students.Student", on_delete=models.PROTECT, related_name="+")
    award = models.ForeignKey("funding.Award", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    semester_code = models.CharField(_("semester"), max_length=12)
    program_code = models.CharField(_("program code"), max_length=40)
    program_name = models.CharField(_("program"), max_length=100)
    other_district = models.CharField(_("other district"), max_length=200)

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.RECONCILIATION_VIEW
    audited_with: ClassVar[str] = "platform_pass"

    class Meta:
        verbose_name = _("cross-district match")
        verbose_name_plural = _("cross-district matches")
        constraints = [models.UniqueConstraint(fields=["tenant", "id"], name="audits_xmatch_tenant_id_uniq")]
        indexes = [
            models.Index(fields=["tenant", "platform_pass", "semester_code"], name="audits_xmatch_pass_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_case_display()} {self.other_district}"
