"""台账: the semester's ledger by school, program, tier and village, from the lines themselves, and beside
it the same money by hardship category (其中建档立卡…, as the county's reports write it).

Every figure comes from `money_by`, the one selector of money (the dashboards and the periodic reports
read it too): awards, their lines and recoveries in one grouped statement, every total the sum of its
lines, to the fen. An award whose pupil has several
categories (低保 and 残疾 at once) counts under each of them in the category table, so that table's
rows may add up to more than the ledger: its own "distinct" line counts every award once.

The page computes it, in one statement (`ledger_groups`), rather than reading a summary kept at its
grain: that grain holds the pupil's village, which the roster import changes outside every money
service, so a maintained copy would need a refresh there too (and its distinct total of pupils is not
a sum of groups). At 100,000 pupils the statement's cost is mostly reading the pupils' villages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.db import connection
from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When

from core.money import CENT
from core.xlsx import ColumnFormat, XlsxWriter
from funding.models import ZERO, Award, AwardStatus, Budget, Semester
from schools.permissions import Action
from students.models import HardshipCategory

from .models import LineStatus, PaymentLine, Recovery, RecoveryStatus


@dataclass
class Money:
    """What a group of awards comes to: its pupils and its approved, paid, failed, recovered money."""

    student_count: int = 0
    approved: Decimal = ZERO
    paid: Decimal = ZERO
    failed: Decimal = ZERO
    recovered: Decimal = ZERO

    def add(self, other: Money) -> None:
        """Add a group whose pupils are not in this one (the caller knows: one award per pupil and program)."""
        self.student_count += other.student_count
        self.approved += other.approved
        self.paid += other.paid
        self.failed += other.failed
        self.recovered += other.recovered


@dataclass
class LedgerRow(Money):
    school: str = ""
    program: str = ""
    tier: str = ""
    village: str = ""


@dataclass
class CategoryRow(Money):
    """One program's money under one category (an award counts under each category its pupil has)."""

    program: str = ""
    category: str = ""


@dataclass
class Ledger:
    rows: list[LedgerRow]
    planned: Decimal
    approved: Decimal
    paid: Decimal
    failed: Decimal
    recovered: Decimal
    students: int
    by_category: list[CategoryRow] = field(default_factory=list)


@dataclass
class MoneyGroup(Money):
    """One row of `money_by`: the values of its grouping paths (`key`, in the order asked) and its money."""

    key: tuple[Any, ...] = ()


def _fen(value: Any) -> Decimal:
    # SQLite sums decimals as floats; PostgreSQL's numeric arrives exact. Either way: yuan with two decimals.
    return ZERO if value is None else Decimal(str(value)).quantize(CENT)


def money_sql(
    *,
    awards: QuerySet[Award],
    lines: QuerySet[PaymentLine],
    recoveries: QuerySet[Recovery],
    by: Sequence[str] = (),
    students: bool = True,
    counts: bool = False,
    total_students: bool = False,
) -> tuple[str, list[Any]]:
    """The one statement of money (`money_by`'s, and the maintained summary's): the given awards
    (approved or stopped are kept), their lines and their recoveries, grouped by the award's paths `by`.
    Its columns: the groups' values, the pupils (distinct with `students`, else the awards), approved,
    paid, failed (until a later line pays the award), recovered; with `counts` four more: awards, lines
    paid, lines failed, recoveries done (for the home page's tiles). The callers scope the querysets."""
    awards = (
        awards.filter(status__in=[AwardStatus.APPROVED, AwardStatus.STOPPED])
        .order_by()
        .annotate(
            m_id=F("pk"),
            m_student=F("student_id"),
            m_approved=Case(When(status=AwardStatus.APPROVED, then=F("amount")), default=Value(ZERO)),
            **{f"m_g{i}": F(path) for i, path in enumerate(by)},
        )
        .values("m_id", "m_student", "m_approved", *(f"m_g{i}" for i in range(len(by))))
    )
    line_sums = {
        "m_paid": Sum("amount", filter=Q(status=LineStatus.PAID)),
        "m_failed": Sum("amount", filter=Q(status=LineStatus.FAILED)),
    }
    if counts:
        line_sums |= {
            "m_npaid": Count("pk", filter=Q(status=LineStatus.PAID)),
            "m_nfailed": Count("pk", filter=Q(status=LineStatus.FAILED)),
        }
    lines = lines.order_by().values("award_id").annotate(**line_sums).values("award_id", *line_sums)
    recovery_sums: dict[str, Any] = {"m_recovered": Sum("recovered_amount")}
    if counts:
        recovery_sums["m_nrec"] = Count("pk", filter=Q(status=RecoveryStatus.RECOVERED))
    recoveries = (
        recoveries.order_by()
        .annotate(m_award=F("line__award_id"))
        .values("m_award")
        .annotate(**recovery_sums)
        .values("m_award", *recovery_sums)
    )
    parts, params = [], []
    for name, qs in (("m_a", awards), ("m_l", lines), ("m_r", recoveries)):
        sql, p = qs.query.sql_with_params()
        parts.append(f"{name} AS ({sql})")
        params.extend(p)
    groups = [f"m_a.m_g{i}" for i in range(len(by))]
    paid = "COALESCE(m_l.m_paid, 0)"
    columns = [
        *groups,
        "COUNT(DISTINCT m_a.m_student)" if students else "COUNT(*)",
        "SUM(m_a.m_approved)",
        f"SUM({paid})",
        f"SUM(CASE WHEN {paid} > 0 THEN 0 ELSE COALESCE(m_l.m_failed, 0) END)",
        "SUM(COALESCE(m_r.m_recovered, 0))",
    ]
    if counts:
        columns += [
            "COUNT(*)",
            "SUM(COALESCE(m_l.m_npaid, 0))",
            "SUM(COALESCE(m_l.m_nfailed, 0))",
            "SUM(COALESCE(m_r.m_nrec, 0))",
        ]
    if total_students:
        # Over the awards once more (PostgreSQL materializes a CTE read twice): no sort of the groups.
        columns.append("(SELECT COUNT(DISTINCT m_student) FROM m_a)")
    # Composed only of the querysets' own compiled SQL (values as parameters) and fixed aliases.
    sql = (
        f"WITH {', '.join(parts)} SELECT {', '.join(columns)} FROM m_a"  # noqa: S608
        " LEFT JOIN m_l ON m_l.award_id = m_a.m_id LEFT JOIN m_r ON m_r.m_award = m_a.m_id"
        + (f" GROUP BY {', '.join(groups)}" if groups else "")
    )
    return sql, params


def money_by(
    *,
    user: Any,
    semester: Semester,
    by: Sequence[str] = (),
    action: Action = Action.FUNDING_VIEW,
    students: bool = True,
) -> list[MoneyGroup]:
    """THE money of a semester (资金): for the awards the user may see (approved or stopped), grouped by the
    award's field paths `by` (e.g. ("program__name",)), each group's distinct pupils, approved amount, paid,
    failed (until a later line pays the award) and recovered money. The ledger, the dashboards and the
    periodic reports all read their money here, so they agree to the fen. `action` is the one the rows are
    scoped by (the ledger's FUNDING_VIEW; the dashboard's; a report's generation). `students=False` leaves
    the pupils uncounted (0): a distinct count sorts every award, which a money-only reader need not pay.

    Set-based whatever the size: the three scoped querysets (awards, lines per award, recoveries per award)
    become one statement of two hash joins and one GROUP BY (no row reaches Python but the groups)."""
    rows = _money_rows(user=user, semester=semester, action=action, by=by, students=students)
    n = len(by)
    result = [
        _group(row, n, (row[n] or 0) if students else 0)
        for row in rows
        if row[n]  # no awards: the ungrouped statement still answers one empty row
    ]
    return sorted(result, key=lambda g: tuple("" if v is None else str(v) for v in g.key))


def _money_rows(*, user: Any, semester: Semester, action: Action, by: Sequence[str], **options: bool) -> list[Any]:
    """`money_sql`'s rows over the semester's awards, lines and recoveries the user may see through `action`."""
    sql, params = money_sql(
        awards=Award.objects.visible_to(user, action).filter(semester=semester),
        lines=PaymentLine.objects.visible_to(user, action).filter(semester=semester),
        recoveries=Recovery.objects.visible_to(user, action).filter(line__semester=semester),
        by=by,
        **options,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _group(row: Any, n: int, student_count: int) -> MoneyGroup:
    """One row of `money_sql` (after its `n` group values: pupils, approved, paid, failed, recovered)."""
    return MoneyGroup(
        key=tuple(row[:n]),
        student_count=student_count,
        approved=_fen(row[n + 1]),
        paid=_fen(row[n + 2]),
        failed=_fen(row[n + 3]),
        recovered=_fen(row[n + 4]),
    )


def _categories(raw: Any, names: dict[str, str]) -> list[str]:
    codes = json.loads(raw) if isinstance(raw, str) else (raw or [])
    return [names.get(code, code) for code in codes] or ["—"]


#: The ledger's finest grain: its rows' paths, then the application's categories (the category table's).
LEDGER_GRAIN = (
    "school__code", "program__sort_order", "school__name", "program__name", "tier", "student__village",
    "application__categories",
)  # fmt: skip


def ledger_groups(*, user: Any, semester: Semester) -> tuple[list[MoneyGroup], int]:
    """The semester's money the user may see at the ledger's finest grain (`LEDGER_GRAIN`), and the
    distinct pupils of them all: `money_by`'s statement, run once for the ledger's two tables and its
    total. Every group lies inside one program, where a pupil has one award (the database's
    `funding_award_one_per_student`), so a group's awards are its pupils: counted without the distinct
    count's sort, and any rollup of groups inside a program adds up exactly."""
    rows = _money_rows(
        user=user, semester=semester, action=Action.FUNDING_VIEW, by=LEDGER_GRAIN, students=False, total_students=True
    )
    n = len(LEDGER_GRAIN)
    return [_group(row, n, row[n]) for row in rows], (rows[0][n + 5] if rows else 0)


def semester_ledger(*, user: Any, semester: Semester) -> Ledger:
    """The ledger rows the user may see, and their totals, from one statement of `money_by`'s money
    (`ledger_groups`); equal to what `money_by` answers for each table's grouping, to the fen."""
    tiers = dict(Award._meta.get_field("tier").choices)
    names = dict(HardshipCategory.objects.values_list("code", "name"))
    groups, students = ledger_groups(user=user, semester=semester)
    rows: dict[tuple, LedgerRow] = {}
    # Per category: grouped by the application's list of categories, then counted under each of them. A
    # pupil has one award per program and semester, so a pupil is in one group per program and the
    # groups' pupil counts add up exactly.
    by_category: dict[tuple, CategoryRow] = {}
    total = Money()
    for g in groups:
        code, order, school, program, tier, village, raw = g.key
        key = (code, order, school, program, str(tiers.get(tier, "—")) if tier else "—", village or "—")
        row = rows.get(key)
        if row is None:
            row = rows[key] = LedgerRow(school=school, program=program, tier=key[4], village=key[5])
        row.add(g)  # an empty village and a missing one are one row: their pupils differ
        for category in _categories(raw, names):
            ckey = (order, program, category)
            crow = by_category.get(ckey)
            if crow is None:
                crow = by_category[ckey] = CategoryRow(program=program, category=category)
            crow.add(g)
        total.add(g)
    ordered = [rows[k] for k in sorted(rows)]
    planned = sum(
        (b.quota for b in Budget.objects.visible_to(user, Action.FUNDING_VIEW).filter(semester=semester)), ZERO
    )
    return Ledger(
        rows=ordered,
        planned=planned,
        approved=total.approved,
        paid=total.paid,
        failed=total.failed,
        recovered=total.recovered,
        students=students,
        by_category=[by_category[k] for k in sorted(by_category)],
    )


def _total(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


LEDGER_HEADERS = [
    "学校",
    "资助项目",
    "档次",
    "村（社区）",
    "学生人数",
    "批准金额",
    "已发放",
    "发放失败",
    "已追回",
]


def ledger_rows_for_export(ledger: Ledger) -> list[list[Any]]:
    rows = [
        [r.school, r.program, r.tier, r.village, r.student_count, r.approved, r.paid, r.failed, r.recovered]
        for r in ledger.rows
    ]
    rows.append(["合计", "", "", "", ledger.students, ledger.approved, ledger.paid, ledger.failed, ledger.recovered])
    return rows


CATEGORY_HEADERS = ["资助项目", "困难类别", "学生人数", "批准金额", "已发放", "发放失败", "已追回"]
#: Said under the category table, on the page and in the workbook.
CATEGORY_NOTE = "一名学生有多个困难类别时，在每个类别下各计一次；不重复合计见上表“合计”。"


def category_rows_for_export(ledger: Ledger) -> list[list[Any]]:
    rows = [
        [r.program, r.category, r.student_count, r.approved, r.paid, r.failed, r.recovered] for r in ledger.by_category
    ]
    rows.append(["不重复合计", "", ledger.students, ledger.approved, ledger.paid, ledger.failed, ledger.recovered])
    return rows


def ledger_xlsx(ledger: Ledger, target: IO[bytes]) -> None:
    """The ledger as an xlsx workbook (one sheet, 台账) written into `target`."""
    with XlsxWriter(target) as book:
        with book.sheet("台账", [ColumnFormat(width=18)] * len(LEDGER_HEADERS)) as sheet:
            sheet.row(LEDGER_HEADERS, style=1)
            for row in ledger_rows_for_export(ledger):
                sheet.row(row)
        with book.sheet("按困难类别", [ColumnFormat(width=18)] * len(CATEGORY_HEADERS)) as sheet:
            sheet.row(CATEGORY_HEADERS, style=1)
            for row in category_rows_for_export(ledger):
                sheet.row(row)
            sheet.row([CATEGORY_NOTE])
