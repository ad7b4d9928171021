"""市/省: building the region's aggregate table, and recording that a region account read it.

**Rebuild** (`district_figures_rebuild`): per district, in that district's transaction (row-level
security shows it its own rows only), ONE GROUP BY over its maintained money summary by semester and
program; then, in a transaction that names no tenant (the platform table's policy admits only that), the
districts' rows replaced by one DELETE and one bulk INSERT. Two transactions, because no single one may
see both sides: a district's transaction sees no platform row, a platform transaction no district row.
A few dozen rows per district, whatever its size: the money summary is already the set-based sum of the
awards, lines and recoveries (disbursements.summary), and this sums it once more, to the fen.

Runs nightly (beat, after the money summary's own rebuild), on demand (`manage.py district_figures_rebuild`),
and never inside a tenant's context (it refuses).

**Audit** (`region_view_record`): a region account belongs to no tenant and so has no audit chain of its
own; what it read is recorded in the trail of each district whose figures it was shown (the pattern of
the national calendar's load, written into every tenant's trail): every district can see which city or
province looked at its figures, when, and in which form (page, xlsx, API).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.utils import timezone

from core.audit import trail
from core.tenancy.context import current_tenant_id_or_none, tenant_transaction
from disbursements.models import MoneySummary
from schools import permissions
from schools.models import Region, Tenant

from .models import DistrictFigure

#: Who the audit trail and the logs name for the nightly rebuild (a task or the operator's command).
PLATFORM_ACTOR = trail.Actor(user_id=None, label="platform_region_figures", source="task")
#: The audit action of a region account reading its districts' figures.
REGION_VIEW_ACTION = "region.view"

_SUMS = ("pupils", "awards", "approved", "paid", "failed", "recovered", "paid_lines", "failed_lines", "recoveries_done")
#: The money summary's column each figure sums (its distinct pupils per school are `students`).
_SOURCE = {"pupils": "students"}


@dataclass
class RebuildResult:
    districts: int = 0
    rows: int = 0
    semesters: list[str] = field(default_factory=list)


def _district_rows(tenant_id: Any) -> list[dict[str, Any]]:
    """The district's money summary summed by semester and program: one GROUP BY, in its transaction."""
    with tenant_transaction(tenant_id):
        return list(
            MoneySummary.objects.order_by()
            .values(
                "semester__academic_year", "semester__term", "program__code", "program__name", "program__sort_order"
            )
            .annotate(**{name: Sum(_SOURCE.get(name, name)) for name in _SUMS})
        )


def district_figures_rebuild(*, tenant_ids: list[Any] | None = None) -> RebuildResult:
    """The region table's rows of these districts (None: every district) recomputed from their money
    summaries, replacing the old ones (idempotent). Refuses to run inside a tenant's context."""
    if current_tenant_id_or_none() is not None:
        raise PermissionDenied("the region's figures are the platform's, not a district's")
    districts = Tenant.objects.order_by("slug")
    if tenant_ids is not None:
        districts = districts.filter(pk__in=tenant_ids)
    ids = list(districts.values_list("pk", flat=True))
    now = timezone.now()
    figures: list[DistrictFigure] = []
    for tenant_id in ids:
        for row in _district_rows(tenant_id):
            values = {name: row[name] or 0 for name in _SUMS}
            if not any(values.values()):
                continue
            figures.append(
                DistrictFigure(
                    district_id=tenant_id,
                    semester_code=f"{row['semester__academic_year']}-{row['semester__term']}",
                    program_code=row["program__code"],
                    program_name=row["program__name"],
                    program_sort_order=row["program__sort_order"],
                    refreshed_at=now,
                    **values,
                )
            )
    with tenant_transaction(None):
        DistrictFigure.objects.filter(district_id__in=ids).delete()
        DistrictFigure.objects.bulk_create(figures, batch_size=2000)
    return RebuildResult(districts=len(ids), rows=len(figures), semesters=sorted({f.semester_code for f in figures}))


def region_view_record(*, user: Any, region: Region, district_ids: list[Any], semester_code: str, form: str) -> None:
    """One audit event in the trail of each district whose figures `user` (a region account) was shown."""
    if not permissions.can(user, permissions.Action.REGION_VIEW):
        raise PermissionDenied
    after = {"region": region.name, "region_code": region.code, "semester": semester_code, "form": form}
    for tenant_id in sorted(district_ids, key=str):
        with tenant_transaction(tenant_id):
            trail.record(
                tenant_id=tenant_id, action=REGION_VIEW_ACTION, object_type_="schools.region",
                object_id=str(region.pk), after=after,
            )  # fmt: skip
