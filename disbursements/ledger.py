"""台账: the semester's ledger by school, program, tier, category and village, from the lines themselves.

Three queries (awards, lines, recoveries) and a sum in Python with Decimal: every total is the sum of
its lines, to the fen, and the grand total is the sum of the rows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from core.xlsx import ColumnFormat, XlsxWriter
from funding.models import ZERO, Award, AwardStatus, Budget, Semester
from schools.permissions import Action
from students.models import HardshipCategory

from .models import LineStatus, PaymentLine, Recovery


@dataclass
class LedgerRow:
    school: str
    program: str
    tier: str
    category: str
    village: str
    students: set[Any] = field(default_factory=set)
    approved: Decimal = ZERO
    paid: Decimal = ZERO
    failed: Decimal = ZERO
    recovered: Decimal = ZERO

    @property
    def student_count(self) -> int:
        return len(self.students)


@dataclass
class Ledger:
    rows: list[LedgerRow]
    planned: Decimal
    approved: Decimal
    paid: Decimal
    failed: Decimal
    recovered: Decimal
    students: int


def _first_category(raw: Any, names: dict[str, str]) -> str:
    codes = json.loads(raw) if isinstance(raw, str) else (raw or [])
    return names.get(codes[0], codes[0]) if codes else "—"


def semester_ledger(*, user: Any, semester: Semester) -> Ledger:
    """The ledger rows the user may see, and their totals."""
    tiers = dict(Award._meta.get_field("tier").choices)
    names = dict(HardshipCategory.objects.values_list("code", "name"))
    awards = (
        Award.objects.visible_to(user, Action.FUNDING_VIEW)
        .filter(semester=semester, status__in=[AwardStatus.APPROVED, AwardStatus.STOPPED])
        .values(
            "pk", "status", "amount", "tier", "student_id", "school__name", "school__code", "program__name",
            "program__sort_order", "student__village", "application__categories",
        )
    )  # fmt: skip
    lines: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for line in (
        PaymentLine.objects.visible_to(user, Action.FUNDING_VIEW)
        .filter(semester=semester)
        .values("award_id", "status", "amount")
    ):
        lines[line["award_id"]].append(line)
    recovered: dict[Any, Decimal] = defaultdict(lambda: ZERO)
    for rec in (
        Recovery.objects.visible_to(user, Action.FUNDING_VIEW)
        .filter(line__semester=semester)
        .values("line__award_id", "recovered_amount")
    ):
        recovered[rec["line__award_id"]] += rec["recovered_amount"]

    rows: dict[tuple, LedgerRow] = {}
    for a in awards:
        key = (
            a["school__code"], a["program__sort_order"], a["school__name"], a["program__name"],
            str(tiers.get(a["tier"], "—")) if a["tier"] else "—",
            _first_category(a["application__categories"], names), a["student__village"] or "—",
        )  # fmt: skip
        row = rows.get(key)
        if row is None:
            row = rows[key] = LedgerRow(school=key[2], program=key[3], tier=key[4], category=key[5], village=key[6])
        row.students.add(a["student_id"])
        if a["status"] == AwardStatus.APPROVED:
            row.approved += a["amount"]
        award_lines = lines.get(a["pk"], [])
        paid = sum((x["amount"] for x in award_lines if x["status"] == LineStatus.PAID), ZERO)
        row.paid += paid
        # A failure counts until the award is paid by a later line.
        if not paid:
            row.failed += sum((x["amount"] for x in award_lines if x["status"] == LineStatus.FAILED), ZERO)
        row.recovered += recovered.get(a["pk"], ZERO)
    ordered = [rows[k] for k in sorted(rows)]
    planned = sum(
        (b.quota for b in Budget.objects.visible_to(user, Action.FUNDING_VIEW).filter(semester=semester)), ZERO
    )
    return Ledger(
        rows=ordered,
        planned=planned,
        approved=_total(r.approved for r in ordered),
        paid=_total(r.paid for r in ordered),
        failed=_total(r.failed for r in ordered),
        recovered=_total(r.recovered for r in ordered),
        students=len({s for r in ordered for s in r.students}),
    )


def _total(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


LEDGER_HEADERS = [
    "学校",
    "资助项目",
    "档次",
    "困难类别",
    "村（社区）",
    "学生人数",
    "批准金额",
    "已发放",
    "发放失败",
    "已追回",
]


def ledger_rows_for_export(ledger: Ledger) -> list[list[Any]]:
    rows = [
        [r.school, r.program, r.tier, r.category, r.village, r.student_count, r.approved, r.paid, r.failed, r.recovered]
        for r in ledger.rows
    ]
    rows.append(
        ["合计", "", "", "", "", ledger.students, ledger.approved, ledger.paid, ledger.failed, ledger.recovered]
    )
    return rows


def ledger_xlsx(ledger: Ledger, target: IO[bytes]) -> None:
    """The ledger as an xlsx workbook (one sheet, 台账) written into `target`."""
    with XlsxWriter(target) as book, book.sheet("台账", [ColumnFormat(width=18)] * 10) as sheet:
        sheet.row(LEDGER_HEADERS, style=1)
        for row in ledger_rows_for_export(ledger):
            sheet.row(row)
