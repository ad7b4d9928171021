"""统计报表: the periodic reports (月调度、季汇总、半年通报) kept as dated, immutable snapshots.

A snapshot holds the figures as they were when it was made (JSON, with their SHA-256), who made it and
when; the live figures are computed again on demand (`oversight.selectors.dashboard`), so an auditor can
put the two side by side. A snapshot is never changed: the model refuses a second save, and on the
database a trigger refuses UPDATE and DELETE (migration 0001).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.tenancy.models import TenantModel
from funding.models import Semester
from schools.models import User
from schools.permissions import Action, Scope


class ReportKind(models.TextChoices):
    MONTHLY = "MONTHLY", _("Monthly dispatch")  # 月调度
    QUARTERLY = "QUARTERLY", _("Quarterly summary")  # 季汇总
    HALF_YEAR = "HALF_YEAR", _("Half-year report")  # 半年通报


class SnapshotImmutable(Exception):
    """A report snapshot was asked to change: it never does."""


class ReportSnapshot(TenantModel):
    """One periodic report of the district as it stood when it was made (figures of the semester the
    period ends in, with the previous semester beside them)."""

    kind = models.CharField(_("report"), max_length=10, choices=ReportKind.choices)
    period = models.CharField(_("period"), max_length=10, help_text=_("2026-11, 2026-Q4, 2026-H2"))
    period_start = models.DateField(_("period starts"))
    period_end = models.DateField(_("period ends"))
    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, related_name="+")
    figures = models.JSONField(_("figures"))
    fingerprint = models.CharField(_("SHA-256 of the figures"), max_length=64)
    scheduled = models.BooleanField(_("made on schedule"), default=False)
    generated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    scope: ClassVar[Scope] = Scope()  # district-wide figures
    view_action: ClassVar[Action] = Action.REPORT_VIEW
    # The figures are sealed by their fingerprint, which the audit row keeps.
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"created_at", "updated_at", "figures"})

    class Meta:
        verbose_name = _("report snapshot")
        verbose_name_plural = _("report snapshots")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="oversight_snapshot_tenant_id_uniq"),
            # The beat task makes one snapshot per report and period, however often it runs.
            models.UniqueConstraint(
                fields=["tenant", "kind", "period"],
                condition=Q(scheduled=True),
                name="oversight_snapshot_scheduled_uniq",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="oversight_snapshot_dates"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "kind", "period_end"], name="oversight_snapshot_kind_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise SnapshotImmutable(self.pk)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise SnapshotImmutable(self.pk)


# The post-payment checks (回访) and the outreach records (宣传) live in sub-packages of their own.
from .checks.models import CheckFollowUp, SpotCheck, SpotCheckLine  # noqa: E402
from .outreach.models import OutreachRecord  # noqa: E402
from .region.models import DistrictFigure  # noqa: E402

__all__ = [
    "CheckFollowUp",
    "DistrictFigure",
    "OutreachRecord",
    "ReportKind",
    "ReportSnapshot",
    "SpotCheck",
    "SpotCheckLine",
]
