"""资金汇总: the maintained money summary per (semester, program, school) that the dashboard, the periodic
reports and the district's home page read (`MoneySummary`), kept equal to `ledger.money_by` to the fen.

How it stays right:

- **In the transaction of every change.** The services that change money call `money_summary_refresh`
  for the groups they touched, after their writes and before their commit: disbursements' own services
  directly (a bank return, a correction taking effect, a recovery recorded), funding's through the
  signal `funding.signals.awards_changed` it sends when awards become or stop being money (a list or an
  emergency grant approved, an award stopped or reinstated), to which this app connects (funding is
  below disbursements and does not import it). Building a batch or removing pending lines changes no
  money (a pending line counts nowhere) and refreshes nothing.
- **Set-based**: a refresh is two statements whatever the size, a DELETE of the touched groups and one
  INSERT … SELECT of them recomputed from `ledger.money_sql` — the statement `money_by` runs, with the
  awards, lines and recoveries of the touched groups instead of a user's scope — never a row per award.
  On PostgreSQL a transaction-scoped advisory lock per tenant and semester makes concurrent refreshes
  of one semester take turns: the second recomputes after the first committed (read committed takes a
  new snapshot per statement), so neither writes figures that miss the other's change.
- **A safety net**: `money_summary_rebuild` recomputes every semester of a tenant, and with it the
  batches' line counts and the identified pupils the dashboard reads (the command
  `manage.py money_summary_rebuild`, and the nightly beat task `disbursements.money_summary_rebuild_everywhere`);
  data written behind the services' back (the demo's and the benchmark's bulk seeding) is summed then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from core.rawsql import db_uuid, tenant_param
from funding.models import Award, Semester
from schools.permissions import Action
from students.identification.summary import identified_summary_rebuild

from .batch_summary import batch_summary_rebuild
from .ledger import MoneyGroup, _fen, money_sql
from .models import MoneySummary, PaymentLine, Recovery

#: The summary's columns in the order the INSERT writes them (after id, tenant and times, semester):
#: `money_sql(by=("program_id", "school_id"), students=True, counts=True)`'s columns.
COLUMNS = (
    "program_id", "school_id", "students", "approved", "paid", "failed", "recovered",
    "awards", "paid_lines", "failed_lines", "recoveries_done",
)  # fmt: skip


def _ids(values: Iterable[Any] | None) -> list[Any] | None:
    return None if values is None else sorted({v for v in values if v is not None}, key=str)


def money_summary_refresh(
    *, semester_id: Any, school_ids: Iterable[Any] | None = None, program_ids: Iterable[Any] | None = None
) -> None:
    """Recompute the summary rows of the semester's groups at these schools and programs (None: all of
    them) from the awards, lines and recoveries, in the caller's transaction. Two statements."""
    schools, programs = _ids(school_ids), _ids(program_ids)
    if schools == [] or programs == []:
        return
    awards = Award.objects.filter(semester_id=semester_id)
    lines = PaymentLine.objects.filter(semester_id=semester_id)
    recoveries = Recovery.objects.filter(line__semester_id=semester_id)
    rows = MoneySummary.objects.filter(semester_id=semester_id)
    if schools is not None:
        awards, lines = awards.filter(school_id__in=schools), lines.filter(school_id__in=schools)
        recoveries, rows = recoveries.filter(line__school_id__in=schools), rows.filter(school_id__in=schools)
    if programs is not None:
        awards, lines = awards.filter(program_id__in=programs), lines.filter(program_id__in=programs)
        recoveries, rows = recoveries.filter(line__program_id__in=programs), rows.filter(program_id__in=programs)
    select, params = money_sql(
        awards=awards, lines=lines, recoveries=recoveries, by=("program_id", "school_id"), students=True, counts=True
    )
    new_id = "gen_random_uuid()" if connection.vendor == "postgresql" else "lower(hex(randomblob(16)))"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    tenant = tenant_param()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"money_summary:{tenant}:{semester_id}"]
            )
        rows._raw_delete(rows.db)
        # Composed of the queryset's own compiled SQL (values as parameters) and fixed names.
        cursor.execute(
            f"INSERT INTO {MoneySummary._meta.db_table} (id, tenant_id, created_at, updated_at, semester_id, "  # noqa: S608
            f"{', '.join(COLUMNS)}) SELECT {new_id}, %s, %s, %s, %s, g.* FROM ({select}) g",
            [tenant, now, now, db_uuid(semester_id), *params],
        )


def money_summary_rebuild(*, semester_ids: Iterable[Any] | None = None) -> int:
    """The current tenant's summary recomputed whole (every semester, or these): the safety net. The
    dashboard's two other maintained figures, the batches' lines (`batch_summary`) and the identified
    pupils (`students.identification.summary`), are rebuilt whole with it (they are small, and every
    caller of this net, the nightly task, the command, data written behind the services, needs them
    too). Returns the number of semesters."""
    ids = list(semester_ids) if semester_ids is not None else list(Semester.objects.values_list("pk", flat=True))
    with transaction.atomic():
        for pk in ids:
            money_summary_refresh(semester_id=pk)
        batch_summary_rebuild()
        identified_summary_rebuild()
    return len(ids)


def refresh_awards(*, awards: Iterable[Award]) -> None:
    """The groups of these awards (any number of semesters), refreshed: a statement pair per semester."""
    groups: dict[Any, tuple[set[Any], set[Any]]] = {}
    for a in awards:
        schools, programs = groups.setdefault(a.semester_id, (set(), set()))
        schools.add(a.school_id)
        programs.add(a.program_id)
    for semester_id, (schools, programs) in groups.items():
        money_summary_refresh(semester_id=semester_id, school_ids=schools, program_ids=programs)


def _on_awards_changed(sender: Any, *, semester_id: Any, school_ids: Any, program_ids: Any, **kwargs: Any) -> None:
    money_summary_refresh(semester_id=semester_id, school_ids=school_ids, program_ids=program_ids)


def connect() -> None:
    """Called from the app's ready(): funding's awards_changed refreshes the summary."""
    from funding.signals import awards_changed

    awards_changed.connect(_on_awards_changed, dispatch_uid="disbursements.money_summary")


def summary_by(
    *, user: Any, semester: Semester, by: Sequence[str] = (), action: Action = Action.FUNDING_VIEW
) -> list[MoneyGroup]:
    """The semester's money as `money_by(user, semester, by, students=False)` answers it, read from the
    summary: the rows the user may see (a school's officer: their school's; the district: all), grouped
    by the summary's paths `by` (e.g. ("program__sort_order", "program__name")). One small GROUP BY.
    `student_count` is the summed distinct pupils of the groups (exact for one program: a pupil has one
    award per program and semester)."""
    sums = {
        "n": Sum("awards"),
        "s": Sum("students"),
        "approved_sum": Sum("approved"),
        "paid_sum": Sum("paid"),
        "failed_sum": Sum("failed"),
        "recovered_sum": Sum("recovered"),
    }
    rows = MoneySummary.objects.visible_to(user, action).filter(semester=semester).order_by()
    # Ungrouped: one total (`.values()` of no field would group by every column, a row per group).
    rows = [rows.aggregate(**sums)] if not by else rows.values(*by).annotate(**sums)
    result = [
        MoneyGroup(
            key=tuple(row[p] for p in by),
            student_count=row["s"] or 0,
            approved=_fen(row["approved_sum"]),
            paid=_fen(row["paid_sum"]),
            failed=_fen(row["failed_sum"]),
            recovered=_fen(row["recovered_sum"]),
        )
        for row in rows
        if row["n"]
    ]
    return sorted(result, key=lambda g: tuple("" if v is None else str(v) for v in g.key))


def line_counts_by_program(*, user: Any, semester: Semester) -> dict[Any, dict[str, int]]:
    """{program id: {"paid", "failed", "recovered"}}: the semester's lines paid, lines failed and
    recoveries done in the user's units, from the summary (the home page's tiles)."""
    return {
        row["program_id"]: {"paid": row["p"] or 0, "failed": row["f"] or 0, "recovered": row["r"] or 0}
        for row in MoneySummary.objects.visible_to(user)
        .filter(semester=semester)
        .order_by()
        .values("program_id")
        .annotate(p=Sum("paid_lines"), f=Sum("failed_lines"), r=Sum("recoveries_done"))
        if row["p"] or row["f"] or row["r"]
    }
