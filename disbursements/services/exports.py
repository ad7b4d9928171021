"""发放名册: the payment roster of a released batch, in the bank's layout, as xlsx or CSV.

What the roster holds: the lines sent to the bank, i.e. the lines that were EXPORTED when the batch was
released, whatever the bank answered since (PAID, FAILED). Re-exporting after the return gives the
same lines with the same numbers; a line taken out of the batch after release (the bank refused the
file because of it) is no longer on it.

How a line is referred to: its `seq` (序号) is its position among the sent lines of its batch with the
same bank and funding source, ordered by when the lines were built. A roster of one bank and source
therefore numbers its lines 1…n, and numbers them the same way on every export; the bank's return
echoes that number. The line's UUID goes in the 业务编号 column (field `ref`) of the default layout: a
return that carries it is matched by it, which is unambiguous whatever file it answers.

Totals: the xlsx has a second sheet (学校汇总) with the count and amount per school and a grand total;
the CSV carries the lines only (a bank may refuse a whole file for one line it cannot parse) and the
school totals go to a second CSV when the caller gives `totals_target`.

The export is set-based: one query for the lines (ordered, streamed with a server-side cursor), the
numbers decrypted in Python only for the columns the layout prints, rows written as they come.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.audit import trail
from core.money import to_money
from core.tenancy.context import current_tenant_id, tenant_transaction
from core.xlsx import STYLE_BOLD, ColumnFormat, XlsxWriter, neutralise
from funding.models import ZERO, FundingSource
from schools import permissions
from schools.models import Stage
from schools.permissions import Action

from ..models import BankLayout, Batch, BatchStatus, LineStatus, PaymentLine

#: The lines a roster holds: those sent to the bank when the batch was released, answered or not.
SENT_STATES = (LineStatus.EXPORTED, LineStatus.PAID, LineStatus.FAILED)

#: The fields a layout's columns may print (BankLayout.columns: [[header, field], …]).
FIELDS = (
    "seq", "ref", "name", "id_number", "account", "holder", "amount", "school", "grade", "class", "program", "source",
    "bank",
)  # fmt: skip

#: The layout of a bank that has none configured. The headers are the file format (Chinese whatever
#: the user's language), like the roster template's.
DEFAULT_LAYOUT: tuple[tuple[str, str], ...] = (
    ("序号", "seq"),
    ("业务编号", "ref"),
    ("姓名", "name"),
    ("身份证号", "id_number"),
    ("账号", "account"),
    ("户名", "holder"),
    ("金额", "amount"),
    ("学校", "school"),
    ("年级", "grade"),
    ("班级", "class"),
    ("资助项目", "program"),
    ("资金来源", "source"),
    ("开户银行", "bank"),
)

ROSTER_SHEET = "发放名册"
TOTALS_SHEET = "学校汇总"
TOTALS_HEADER = ("学校标识码", "学校", "笔数", "金额")
GRAND_TOTAL = "合计"

CSV_ENCODINGS = {"gb18030": "gb18030", "gbk": "gbk", "utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8-sig"}

_WIDTHS = {"seq": 7, "ref": 38, "name": 10, "id_number": 21, "account": 24, "holder": 10, "amount": 12,
           "school": 24, "grade": 14, "class": 7, "program": 18, "source": 10, "bank": 16}  # fmt: skip
#: Columns kept as text in the workbook: Excel keeps only 15 significant digits of a number.
_TEXT_FIELDS = frozenset({"ref", "id_number", "account"})
_CSV_CHUNK = 2000
#: zlib level of the workbook: 1 writes a 100,000-line roster in half the time of 6, in a file 30% larger.
XLSX_COMPRESSION = 1

MSG_NOT_RELEASED = _("Only a batch released to the bank has a payment roster.")
MSG_NO_LINES = _("No line of this batch was sent to the bank for this bank and funding source.")
MSG_BAD_FORMAT = _("A payment roster is exported as xlsx or csv.")
MSG_BAD_LAYOUT = _("The layout of %(bank)s is not a list of [header, field] pairs with known fields (%(fields)s).")
MSG_BAD_ENCODING = _("The layout of %(bank)s asks for the encoding “%(encoding)s”: use GB18030 or UTF-8.")
MSG_UNENCODABLE = _("A line of the roster cannot be written in %(encoding)s: use GB18030 or UTF-8 for this bank.")


class RosterFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


@dataclass
class RosterGroup:
    """One (bank, funding source) pair of a batch's sent lines: one roster file."""

    bank: str
    source: str
    count: int
    amount: Decimal


@dataclass
class SchoolTotal:
    code: str
    name: str
    count: int = 0
    amount: Decimal = ZERO


@dataclass
class RosterExport:
    """What an export wrote: the number of lines, their sum, and the totals per school."""

    fmt: str
    bank: str | None
    source: str | None
    layout: str  # the bank whose layout was used, "" for the default one
    lines: int = 0
    amount: Decimal = ZERO
    schools: list[SchoolTotal] = field(default_factory=list)


@dataclass(frozen=True)
class Layout:
    bank: str  # "" for the default layout
    columns: tuple[tuple[str, str], ...]
    csv_encoding: str


def may_manage(actor: Any, batch: Batch) -> bool:
    """District staff manage batches; so does the tenant's own system account (the command line and
    scheduled jobs act as it: it cannot sign in)."""
    if batch.tenant_id != current_tenant_id():
        return False  # whatever the actor's roles: work is done in the batch's own tenant only
    if getattr(actor, "is_system", False) and actor.tenant_id == batch.tenant_id:
        return True
    return permissions.can(actor, Action.BATCH_MANAGE, batch)


def require_manager(actor: Any, batch: Batch) -> None:
    """PermissionDenied unless the actor may manage the batch (see may_manage)."""
    if not may_manage(actor, batch):
        raise PermissionDenied


def payment_roster_groups(*, batch: Batch) -> list[RosterGroup]:
    """The (bank, funding source) pairs of the batch's sent lines with their counts and sums, ordered
    as the roster orders its lines: one file each."""
    rows = (
        PaymentLine.objects.filter(batch=batch, status__in=SENT_STATES)
        .values("bank", "source")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by("bank", "source")
    )
    return [RosterGroup(bank=r["bank"], source=r["source"], count=r["n"], amount=to_money(r["total"])) for r in rows]


def bank_layout(bank: str | None) -> Layout:
    """The tenant's layout for the bank (the default one if it has none), checked."""
    configured = BankLayout.objects.filter(bank=bank).first() if bank is not None else None
    if configured is None:
        return Layout(bank="", columns=DEFAULT_LAYOUT, csv_encoding="gb18030")
    columns = configured.columns
    ok = (
        isinstance(columns, list)
        and columns
        and all(
            isinstance(c, list | tuple) and len(c) == 2 and isinstance(c[0], str) and c[1] in FIELDS for c in columns
        )
    )
    if not ok:
        raise ValidationError(MSG_BAD_LAYOUT % {"bank": configured.bank, "fields": ", ".join(FIELDS)})
    encoding = CSV_ENCODINGS.get((configured.csv_encoding or "gb18030").strip().lower())
    if encoding is None:
        raise ValidationError(MSG_BAD_ENCODING % {"bank": configured.bank, "encoding": configured.csv_encoding})
    return Layout(bank=configured.bank, columns=tuple((h, f) for h, f in columns), csv_encoding=encoding)


def payment_roster(
    *,
    actor: Any,
    batch: Batch,
    bank: str | None = None,
    source: str | None = None,
    fmt: str,
    target: str | Path | IO[bytes],
    totals_target: str | Path | IO[bytes] | None = None,
) -> RosterExport:
    """Write the roster of the batch's sent lines (of one bank and funding source, or all of them) to
    `target` in the bank's layout, with the totals per school, and record the export in the trail
    (the file holds full ID and account numbers). Refuses a batch not yet released."""
    try:
        fmt = RosterFormat(fmt)
    except ValueError:
        raise ValidationError(MSG_BAD_FORMAT) from None
    with tenant_transaction(current_tenant_id()), translation.override(settings.LANGUAGE_CODE):
        require_manager(actor, batch)
        batch = Batch.objects.get(pk=batch.pk)
        if batch.status not in (BatchStatus.RELEASED, BatchStatus.CLOSED):
            raise ValidationError(MSG_NOT_RELEASED)
        groups = [
            g
            for g in payment_roster_groups(batch=batch)
            if (bank is None or g.bank == bank) and (source is None or g.source == source)
        ]
        if not groups:
            raise ValidationError(MSG_NO_LINES)
        banks = {g.bank for g in groups}
        # A roster of several banks (an overview for the district) uses the default layout.
        layout = bank_layout(banks.pop() if len(banks) == 1 else None)
        export = RosterExport(fmt=fmt, bank=bank, source=source, layout=layout.bank)
        records = _records(batch, bank, source, {f for _h, f in layout.columns}, export)
        if fmt == RosterFormat.XLSX:
            _write_xlsx(target, layout, records, export)
        else:
            _write_csv(target, totals_target, layout, records, export)
        trail.record(
            tenant_id=batch.tenant_id,
            action="payments.export",
            obj=batch,
            after={
                "lines": export.lines,
                "amount": export.amount,
                "bank": bank or "",
                "source": source or "",
                "format": str(fmt),
                "layout": layout.bank,
            },
        )
    return export


# --- Reading ------------------------------------------------------------------------------------------

#: The record of one line: the FIELDS in order, then the school's id and code (for the totals).
_INDEX = {name: i for i, name in enumerate(FIELDS)}


def _records(
    batch: Batch, bank: str | None, source: str | None, wanted: set[str], export: RosterExport
) -> Iterator[tuple[Any, ...]]:
    """One tuple per sent line, in roster order, counting the totals as it goes. Only the numbers the
    layout prints are decrypted (they are not even read otherwise)."""
    lines = PaymentLine.objects.filter(batch=batch, status__in=SENT_STATES)
    if bank is not None:
        lines = lines.filter(bank=bank)
    if source is not None:
        lines = lines.filter(source=source)
    columns = [
        "pk", "bank", "source", "amount", "holder", "school__code", "school__name", "grade__stage", "grade__entry_year",
        "klass__number", "program__name", "student__name",
    ]  # fmt: skip
    if "account" in wanted:
        columns.append("account")
    if "id_number" in wanted:
        columns.append("student__id_number")
    at = {name: i for i, name in enumerate(columns)}
    i_account, i_id = at.get("account"), at.get("student__id_number")
    rows = lines.order_by("bank", "source", "created_at", "pk").values_list(*columns).iterator(chunk_size=10_000)

    grades: dict[tuple[str, int], str] = {}
    classes: dict[int, str] = {}
    sources = {value: str(label) for value, label in FundingSource.choices}
    schools: dict[Any, SchoolTotal] = {}
    group: tuple[str, str] | None = None
    seq = 0
    total = ZERO
    for row in rows:
        (pk, line_bank, line_source, amount, holder, school_code, school_name, stage, entry_year, number, program,
         name) = row[:12]  # fmt: skip
        if (line_bank, line_source) != group:
            group, seq = (line_bank, line_source), 0
        seq += 1
        grade = grades.get((stage, entry_year))
        if grade is None:
            grade = grades[(stage, entry_year)] = f"{Stage(stage).label} {entry_year}级"
        klass = classes.get(number)
        if klass is None:
            klass = classes[number] = f"{number}班"
        school = schools.get(school_code)  # the school code is unique in a tenant
        if school is None:
            school = schools[school_code] = SchoolTotal(code=school_code, name=school_name)
        school.count += 1
        school.amount += amount
        total += amount
        yield (
            seq,
            str(pk),
            name,
            row[i_id].reveal() if i_id is not None and row[i_id] else "",
            row[i_account].reveal() if i_account is not None and row[i_account] else "",
            holder,
            amount,
            school_name,
            grade,
            klass,
            program,
            sources.get(line_source, line_source),
            line_bank,
        )
    export.lines = sum(s.count for s in schools.values())
    export.amount = total
    export.schools = sorted(schools.values(), key=lambda s: (s.code, s.name))


# --- Writing ------------------------------------------------------------------------------------------


def _write_xlsx(target: Any, layout: Layout, records: Iterator[tuple[Any, ...]], export: RosterExport) -> None:
    picks = [_INDEX[f] for _h, f in layout.columns]
    formats = [ColumnFormat(width=_WIDTHS[f], text=f in _TEXT_FIELDS) for _h, f in layout.columns]
    with XlsxWriter(target, compresslevel=XLSX_COMPRESSION) as book:
        with book.sheet(ROSTER_SHEET, formats) as sheet:
            sheet.row([h for h, _f in layout.columns], style=STYLE_BOLD)
            for record in records:
                sheet.row([record[i] for i in picks])  # amounts are Decimal: money cells, "0.00"
        with book.sheet(TOTALS_SHEET, [ColumnFormat(14, text=True), ColumnFormat(30), ColumnFormat(8),
                                       ColumnFormat(16)]) as sheet:  # fmt: skip
            sheet.row(TOTALS_HEADER, style=STYLE_BOLD)
            for school in export.schools:
                sheet.row([school.code, school.name, school.count, school.amount])
            sheet.row([GRAND_TOTAL, "", export.lines, export.amount], style=STYLE_BOLD)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def _write_csv(
    target: Any, totals_target: Any, layout: Layout, records: Iterator[tuple[Any, ...]], export: RosterExport
) -> None:
    picks = [_INDEX[f] for _h, f in layout.columns]
    rows = ([_csv_cell(record[i]) for i in picks] for record in records)
    _csv_file(target, layout.csv_encoding, [h for h, _f in layout.columns], rows)
    if totals_target is not None:
        totals = [[neutralise(s.code), neutralise(s.name), s.count, f"{s.amount:.2f}"] for s in export.schools]
        totals.append([GRAND_TOTAL, "", export.lines, f"{export.amount:.2f}"])
        _csv_file(totals_target, layout.csv_encoding, list(TOTALS_HEADER), iter(totals))


def _csv_file(target: Any, encoding: str, header: Sequence[str], rows: Iterator[list[Any]]) -> None:
    """Rows written as CSV in `encoding`, a chunk at a time (constant memory)."""
    stream, close = (open(target, "wb"), True) if isinstance(target, str | Path) else (target, False)  # noqa: SIM115
    try:
        if encoding == "utf-8-sig":
            stream.write(codecs.BOM_UTF8)  # once, not once per chunk
            encoding = "utf-8"
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([neutralise(h) for h in header])
        for n, row in enumerate(rows, start=1):
            writer.writerow(row)
            if n % _CSV_CHUNK == 0:
                _flush(stream, buffer, encoding)
        _flush(stream, buffer, encoding)
    finally:
        if close:
            stream.close()


def _flush(stream: IO[bytes], buffer: io.StringIO, encoding: str) -> None:
    try:
        data = buffer.getvalue().encode(encoding)
    except UnicodeEncodeError:
        raise ValidationError(MSG_UNENCODABLE % {"encoding": encoding.upper()}) from None
    stream.write(data)
    buffer.seek(0)
    buffer.truncate()
