"""市/省: the aggregates a region's oversight account reads, one row per (district, semester, program).

`DistrictFigure` is a PLATFORM table, built on the pattern of `audits.PlatformFact`:

- It has no `tenant` column (a `district` instead), so it is no tenant table; row-level security on it
  admits only a session with NO tenant set (`PlatformOnly`): inside any district's transaction it has no
  rows at all. A region account works in no tenant (it has none), so it reads this table and, by the
  same row-level security, not one row of any tenant table.
- It holds NO pupil data: counts and money per district, program and semester, summed from each
  district's maintained money summary (`disbursements.MoneySummary`) by `services.district_figures_rebuild`.
  No name, no ID number, no pupil, school, award or line id: nothing a region could follow back to a child.
- Its key is region-independent (district, semester code, program code): moving a district to another
  city changes what that city reads at once, with no rebuild.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from funding.models import MONEY, ZERO


class DistrictFigure(models.Model):
    """The money of one district, semester and program, as its money summary sums it (to the fen)."""

    id = models.BigAutoField(primary_key=True)
    district = models.ForeignKey("schools.Tenant", on_delete=models.CASCADE, related_name="+")
    semester_code = models.CharField(_("semester"), max_length=12)  # "2026-AUTUMN" (Semester.code)
    program_code = models.CharField(_("program code"), max_length=40)  # the same codes in every district
    program_name = models.CharField(_("program"), max_length=100)
    program_sort_order = models.PositiveSmallIntegerField(default=0)
    pupils = models.PositiveIntegerField(_("pupils funded"), default=0)  # distinct, per school, summed
    awards = models.PositiveIntegerField(_("awards"), default=0)  # approved or stopped
    approved = models.DecimalField(**MONEY, default=ZERO)
    paid = models.DecimalField(**MONEY, default=ZERO)
    failed = models.DecimalField(**MONEY, default=ZERO)
    recovered = models.DecimalField(**MONEY, default=ZERO)
    paid_lines = models.PositiveIntegerField(_("lines paid"), default=0)
    failed_lines = models.PositiveIntegerField(_("lines failed"), default=0)
    recoveries_done = models.PositiveIntegerField(_("recoveries done"), default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("district figure")
        verbose_name_plural = _("district figures")
        constraints = [
            models.UniqueConstraint(
                fields=["district", "semester_code", "program_code"], name="oversight_districtfigure_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.semester_code} {self.program_code}"
