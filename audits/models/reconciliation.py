"""比对: a reconciliation run checks a semester's identifications, awards and payments against the
register and the departments' latest snapshots, and lists what it finds, each with a reason code and
the evidence, for the district to act on (the reissue batch, stops, recoveries, tier changes)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.tenancy.models import TenantModel, tenant_key_proved_elsewhere
from schools.permissions import Action, Scope


class RunStatus(models.TextChoices):
    QUEUED = "QUEUED", _("Queued")
    RUNNING = "RUNNING", _("Running")
    DONE = "DONE", _("Done")
    FAILED = "FAILED", _("Failed")


class ReconciliationRun(TenantModel):
    """One reconciliation of a semester. Reproducible: `inputs` records the fingerprints of what it
    read (the snapshots' files, a digest of the register, identifications, awards and lines), and a
    run on the same inputs finds the finished run instead of writing its lists again."""

    semester = models.ForeignKey("funding.Semester", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    job = models.ForeignKey("schools.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    inputs = models.JSONField(default=dict, blank=True)
    inputs_fingerprint = models.CharField(max_length=64, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    scope: ClassVar[Scope] = Scope()
    view_action: ClassVar[Action] = Action.RECONCILIATION_VIEW

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="audits_run_tenant_id_uniq"),
            # One finished run per semester and inputs: re-running on the same inputs writes nothing.
            models.UniqueConstraint(
                fields=["tenant", "semester", "inputs_fingerprint"],
                condition=models.Q(status="DONE"),
                name="audits_run_inputs_uniq",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "semester", "created_at"], name="audits_run_semester_idx")]

    def __str__(self) -> str:
        return f"{self.semester} {self.created_at:%Y-%m-%d %H:%M}"


class FindingKind(models.TextChoices):
    OMISSION = "OMISSION", _("Omission (应助未助)")
    STOP = "STOP", _("To stop (停发)")
    RECOVER = "RECOVER", _("To recover (追回)")
    TIER = "TIER", _("Tier too low (档次偏低)")
    # Found by the platform's matching across districts: neither district can tell alone which funding
    # stands, so the two settle it (a stop, if this one's award is wrong, is an ordinary correction).
    ELSEWHERE = "ELSEWHERE", _("Also in another district (跨区县)")


class ReasonCode(models.TextChoices):
    """Why a student is on a list: one code per check."""

    NOT_IDENTIFIED = "NOT_IDENTIFIED", _("Registry lists the family; not identified")  # 未认定
    NOT_AWARDED = "NOT_AWARDED", _("Identified and eligible; not on the award list")  # 已认定未资助
    LEFT_SCHOOL = "LEFT_SCHOOL", _("No longer at school")  # 转出 / 毕业
    # 辍学仍受资助: the enrollment says dropped out, or a dropout case confirmed (care) is not over.
    FUNDED_DROPPED_OUT = "FUNDED_DROPPED_OUT", _("Funded but dropped out")
    REGISTRY_DROPPED = "REGISTRY_DROPPED", _("Registry no longer lists the family")  # 已退出
    NOT_REGISTERED = "NOT_REGISTERED", _("Not registered in this county")  # 在校不在籍
    DOUBLE_FUNDED = "DOUBLE_FUNDED", _("Funded twice (across schools or programs)")  # 重复资助
    SHARED_CARD = "SHARED_CARD", _("Funding card shared with an unrelated student")  # 一卡多人
    TIER_TOO_LOW = "TIER_TOO_LOW", _("Registry category demands a higher tier")  # 档次偏低
    # 跨区县重复资助: the platform's matching (audits.crossdistrict) found the pupil funded, or at school
    # and funded, in another district too.
    FUNDED_ELSEWHERE = "FUNDED_ELSEWHERE", _("Also funded in another district")


class FindingStatus(models.TextChoices):
    OPEN = "OPEN", _("Open")
    ACTED = "ACTED", _("Acted on")  # an award, a stop or a recovery proposed from it


class Finding(FSMModelMixin, TenantModel):
    """One line of a run's lists: who, why (reason code), and the evidence (which registry row, which
    award, which enrollment fact). Written in bulk with its run; the run's audit row stands for them,
    and acting on a finding is audited where it acts (awards, corrections)."""

    # Findings are written in bulk (a province's run lists over 100,000): the composite keys of
    # migration 0003 — (tenant, run), (tenant, student), (tenant, school, grade, class), (tenant,
    # program), (tenant, award) — prove each parent exists in this tenant, so the single-column checks,
    # which would only repeat them at commit, are not created.
    tenant = tenant_key_proved_elsewhere()
    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="findings", db_constraint=False)
    kind = models.CharField(_("list"), max_length=10, choices=FindingKind.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=ReasonCode.choices)
    student = models.ForeignKey("students.Student", on_delete=models.PROTECT, related_name="+", db_constraint=False)
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+", db_constraint=False)
    grade = models.ForeignKey(
        "schools.Grade", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    klass = models.ForeignKey(
        "schools.SchoolClass", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    program = models.ForeignKey(
        "funding.Program",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    award = models.ForeignKey(
        "funding.Award",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    category = models.CharField(_("category"), max_length=40, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict)
    status = FSMField(max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN, protected=True)
    # What acting on it produced (award / correction id), so acting twice does nothing.
    acted_ref = models.CharField(max_length=64, blank=True)

    scope: ClassVar[Scope] = Scope(school="school", grade="grade", klass="klass")
    view_action: ClassVar[Action] = Action.RECONCILIATION_VIEW
    audited_with: ClassVar[str] = "run"

    class Meta:
        verbose_name = _("reconciliation finding")
        verbose_name_plural = _("reconciliation findings")
        constraints = [models.UniqueConstraint(fields=["tenant", "id"], name="audits_finding_tenant_id_uniq")]
        indexes = [models.Index(fields=["tenant", "run", "kind", "reason"], name="audits_finding_list_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_reason_display()}"

    # OPEN ─act (an award, a stop or a recovery proposed from it)→ ACTED

    @transition(field=status, source=FindingStatus.OPEN, target=FindingStatus.ACTED)
    def act(self) -> None:
        """Acted on: `acted_ref` names what was proposed."""
