"""认定汇总: the identified pupils the dashboard shows, maintained per (academic year, school, grade, tier,
categories) in `IdentifiedSummary` and kept equal to the count over the applications (`identified_live`).

How it stays right, as the money summary does (`disbursements.summary`):

- **In the transaction of every change.** The services that make an application identified or change
  an identified one's tier call `identified_summary_refresh` for the (year, school) groups they touched,
  after their writes: the review chain's `_apply` (the district's approval), `tier_adjust_decide`, the
  migrated lists' import. Nothing else writes `status` or `tier` of an identified application.
- **Set-based**: a DELETE of the touched groups and one INSERT … SELECT of them, grouped from the
  applications; under a transaction-scoped advisory lock per tenant and year on PostgreSQL, so two
  refreshes of one year take turns and the second recomputes after the first committed.
- **A safety net**: `identified_summary_rebuild` recomputes the tenant's every year; the money
  summary's rebuild (command and nightly task) calls it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from core.rawsql import tenant_param
from schools.permissions import Action

from ..models import ApplicationStatus, HardshipApplication, IdentifiedSummary

#: The summary's grouping columns, in the order the INSERT writes them (then the count).
COLUMNS = ("academic_year", "school_id", "grade_id", "tier", "categories")
#: What the dashboard rolls the counts up by, and the path of each in a row.
ROLLUPS = {"tier": "tier", "stage": "grade__stage", "area": "school__area", "township": "school__township"}


def identified_summary_refresh(*, academic_year: int, school_ids: Iterable[Any] | None = None) -> None:
    """Recompute the year's groups at these schools (None: every school) from the applications, in the
    caller's transaction. Two statements."""
    schools = None if school_ids is None else sorted({s for s in school_ids if s is not None}, key=str)
    if schools == []:
        return
    apps = HardshipApplication.objects.filter(academic_year=academic_year, status=ApplicationStatus.IDENTIFIED)
    rows = IdentifiedSummary.objects.filter(academic_year=academic_year)
    if schools is not None:
        apps, rows = apps.filter(school_id__in=schools), rows.filter(school_id__in=schools)
    select, params = apps.order_by().values(*COLUMNS).annotate(n=Count("pk")).query.sql_with_params()
    new_id = "gen_random_uuid()" if connection.vendor == "postgresql" else "lower(hex(randomblob(16)))"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    tenant = tenant_param()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"identified_summary:{tenant}:{academic_year}"],
            )
        rows._raw_delete(rows.db)
        # Composed of the queryset's own compiled SQL (values as parameters) and fixed names.
        cursor.execute(
            f"INSERT INTO {IdentifiedSummary._meta.db_table} (id, tenant_id, created_at, updated_at, "  # noqa: S608
            f"{', '.join(COLUMNS)}, pupils) SELECT {new_id}, %s, %s, %s, g.* FROM ({select}) g",
            [tenant, now, now, *params],
        )


def identified_summary_touch(*, applications: Iterable[HardshipApplication]) -> None:
    """The (year, school) groups of these applications, refreshed: a statement pair per year."""
    groups: dict[int, set[Any]] = defaultdict(set)
    for app in applications:
        groups[app.academic_year].add(app.school_id)
    for year, schools in sorted(groups.items()):
        identified_summary_refresh(academic_year=year, school_ids=schools)


def identified_summary_rebuild() -> int:
    """The current tenant's summary recomputed whole (every academic year): the safety net. Returns the
    number of years."""
    years = sorted(
        {
            *HardshipApplication.objects.filter(status=ApplicationStatus.IDENTIFIED)
            .order_by()
            .values_list("academic_year", flat=True)
            .distinct(),
            *IdentifiedSummary.objects.order_by().values_list("academic_year", flat=True).distinct(),
        }
    )
    with transaction.atomic():
        for year in years:
            identified_summary_refresh(academic_year=year)
    return len(years)


def _rolled_up(rows: Iterable[dict[str, Any]], count: str) -> dict[str, dict[Any, int]]:
    out: dict[str, dict[Any, int]] = {k: defaultdict(int) for k in (*ROLLUPS, "category")}
    for row in rows:
        n = row[count] or 0
        for key, path in ROLLUPS.items():
            out[key][(row[path] or "") if key == "township" else row[path]] += n
        raw = row["categories"]
        codes = json.loads(raw) if isinstance(raw, str) else (raw or [])
        for code in codes or [""]:
            out["category"][code] += n  # a pupil counts under each of their categories
    return out


def _by_group(queryset: QuerySet, count: Any) -> list[dict[str, Any]]:
    return list(queryset.order_by().values("categories", *ROLLUPS.values()).annotate(n=count))


def identified_counts(*, user: Any, academic_year: int, action: Action) -> dict[str, dict[Any, int]]:
    """{"tier" | "category" | "stage" | "area" | "township": {value: pupils}}: the year's identified
    pupils the user may see, from the summary (one small GROUP BY). A pupil counts under each of their
    categories, and under "" when they have none."""
    rows = IdentifiedSummary.objects.visible_to(user, action).filter(academic_year=academic_year)
    return _rolled_up(_by_group(rows, Sum("pupils")), "n")


def identified_live(*, user: Any, academic_year: int, action: Action) -> dict[str, dict[Any, int]]:
    """The same figures counted over the applications (the summary's reference: tests and the bench
    compare the two)."""
    apps = HardshipApplication.objects.visible_to(user, action).filter(
        academic_year=academic_year, status=ApplicationStatus.IDENTIFIED
    )
    return _rolled_up(_by_group(apps, Count("pk")), "n")
