"""批次汇总: the dashboard's batches chart, maintained per (batch, school, line status) in `BatchLineSummary`
and kept equal to the GROUP BY over the lines (`batch_rows_live`).

How it stays right, as the money summary does (`disbursements.summary`):

- **In the transaction of every change.** Every service that adds lines to a batch or moves their
  status calls `batch_summary_refresh` for the batches (and schools) it touched, after its writes:
  building a batch, a school's confirmation (lines removed), the release (exported), excluding lines,
  the bank's return (paid, failed), a correction taking effect (pending lines removed).
- **Set-based**: a DELETE of the touched groups and one INSERT … SELECT of them, grouped from the
  lines; under a transaction-scoped advisory lock per tenant and batch on PostgreSQL, so two refreshes
  of one batch take turns and the second recomputes after the first committed.
- **A safety net**: `batch_summary_rebuild` recomputes the tenant's every batch; the money summary's
  rebuild (command and nightly task) calls it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from core.money import ZERO
from core.rawsql import tenant_param
from funding.models import Semester
from schools.permissions import Action

from .models import Batch, BatchLineSummary, LineStatus, PaymentLine

#: The summary's grouping columns, in the order the INSERT writes them (then lines and amount).
COLUMNS = ("semester_id", "batch_id", "school_id", "status")


def _ids(values: Iterable[Any] | None) -> list[Any] | None:
    return None if values is None else sorted({v for v in values if v is not None}, key=str)


def batch_summary_refresh(*, batch_ids: Iterable[Any] | None = None, school_ids: Iterable[Any] | None = None) -> None:
    """Recompute the groups of these batches at these schools (None: all of them) from the lines, in
    the caller's transaction. Two statements (and a lock per batch on PostgreSQL, in id order, so two
    refreshes never wait on each other in a ring)."""
    batches = _ids(batch_ids if batch_ids is not None else Batch.objects.values_list("pk", flat=True))
    schools = _ids(school_ids)
    if not batches or schools == []:
        return
    lines = PaymentLine.objects.filter(batch_id__in=batches)
    rows = BatchLineSummary.objects.filter(batch_id__in=batches)
    if schools is not None:
        lines, rows = lines.filter(school_id__in=schools), rows.filter(school_id__in=schools)
    select, params = (
        lines.order_by().values(*COLUMNS).annotate(n=Count("pk"), total=Sum("amount")).query.sql_with_params()
    )
    new_id = "gen_random_uuid()" if connection.vendor == "postgresql" else "lower(hex(randomblob(16)))"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    tenant = tenant_param()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for key in batches:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"batch_summary:{tenant}:{key}"]
                )
        rows._raw_delete(rows.db)
        # Composed of the queryset's own compiled SQL (values as parameters) and fixed names.
        cursor.execute(
            f"INSERT INTO {BatchLineSummary._meta.db_table} (id, tenant_id, created_at, updated_at, "  # noqa: S608
            f"{', '.join(COLUMNS)}, lines, amount) SELECT {new_id}, %s, %s, %s, g.* FROM ({select}) g",
            [tenant, now, now, *params],
        )


def batch_summary_rebuild() -> int:
    """The current tenant's summary recomputed whole: the safety net. Returns the number of batches."""
    with transaction.atomic():
        batch_summary_refresh()
    return Batch.objects.count()


def _rows(groups: Iterable[dict[str, Any]], batches: QuerySet) -> dict[Any, dict[str, Any]]:
    """{batch id: {"lines", "paid", "failed", "paid_amount", "failed_amount"}} from (batch, status) sums;
    removed lines count nowhere, every batch of `batches` has an entry."""
    per = {
        pk: {"lines": 0, "paid": 0, "failed": 0, "paid_amount": ZERO, "failed_amount": ZERO}
        for pk in batches.values_list("pk", flat=True)
    }
    for row in groups:
        entry = per.get(row["batch_id"])
        if entry is None or row["status"] == LineStatus.REMOVED:
            continue
        n, amount = row["n"] or 0, row["amount"] or ZERO
        entry["lines"] += n
        if row["status"] == LineStatus.PAID:
            entry["paid"] += n
            entry["paid_amount"] += Decimal(amount)
        elif row["status"] == LineStatus.FAILED:
            entry["failed"] += n
            entry["failed_amount"] += Decimal(amount)
    return per


def batch_rows(*, user: Any, semester: Semester, action: Action) -> dict[Any, dict[str, Any]]:
    """Each of the semester's batches the user may see: its lines (removed ones aside), lines paid and
    failed and their amounts, in the user's schools, from the summary (one small GROUP BY)."""
    groups = (
        BatchLineSummary.objects.visible_to(user, action)
        .filter(semester=semester)
        .order_by()
        .values("batch_id", "status")
        .annotate(n=Sum("lines"), amount=Sum("amount"))
    )
    return _rows(groups, Batch.objects.visible_to(user, action).filter(semester=semester))


def batch_rows_live(*, user: Any, semester: Semester, action: Action) -> dict[Any, dict[str, Any]]:
    """The same figures grouped from the lines (the summary's reference: tests and the bench compare)."""
    groups = (
        PaymentLine.objects.visible_to(user, action)
        .filter(semester=semester)
        .order_by()
        .values("batch_id", "status")
        .annotate(n=Count("pk"), amount=Sum("amount"))
    )
    return _rows(groups, Batch.objects.visible_to(user, action).filter(semester=semester))
