"""台账: the semester's ledger by school, program, tier and village, from the lines themselves, and beside
it the same money by hardship category (其中建档立卡…, as the county's reports write it).

Three queries (awards, lines, recoveries) and a sum in Python with Decimal: every total is the sum of
its lines, to the fen, and the grand total is the sum of the rows. An award whose pupil has several
categories (低保 and 残疾 at once) counts under each of them in the category table, so that table's
rows may add up to more than the ledger: its own "distinct" line counts every award once.
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
class Money:
    """What a group of awards comes to: its pupils and its approved, paid, failed, recovered money."""

    students: set[Any] = field(default_factory=set)
    approved: Decimal = ZERO
    paid: Decimal = ZERO
    failed: Decimal = ZERO
    recovered: Decimal = ZERO

    @property
    def student_count(self) -> int:
        return len(self.students)

    def add(self, other: Money) -> None:
        self.students |= other.students
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


def _categories(raw: Any, names: dict[str, str]) -> list[str]:
    codes = json.loads(raw) if isinstance(raw, str) else (raw or [])
    return [names.get(code, code) for code in codes] or ["—"]


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
    by_category: dict[tuple, CategoryRow] = {}
    for a in awards:
        key = (
            a["school__code"], a["program__sort_order"], a["school__name"], a["program__name"],
            str(tiers.get(a["tier"], "—")) if a["tier"] else "—", a["student__village"] or "—",
        )  # fmt: skip
        award_lines = lines.get(a["pk"], [])
        paid = sum((x["amount"] for x in award_lines if x["status"] == LineStatus.PAID), ZERO)
        money = Money(
            students={a["student_id"]},
            approved=a["amount"] if a["status"] == AwardStatus.APPROVED else ZERO,
            paid=paid,
            # A failure counts until the award is paid by a later line.
            failed=ZERO if paid else sum((x["amount"] for x in award_lines if x["status"] == LineStatus.FAILED), ZERO),
            recovered=recovered.get(a["pk"], ZERO),
        )
        row = rows.get(key)
        if row is None:
            row = rows[key] = LedgerRow(school=key[2], program=key[3], tier=key[4], village=key[5])
        row.add(money)
        for category in _categories(a["application__categories"], names):
            ckey = (a["program__sort_order"], a["program__name"], category)
            crow = by_category.get(ckey)
            if crow is None:
                crow = by_category[ckey] = CategoryRow(program=a["program__name"], category=category)
            crow.add(money)
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
