"""银行回盘: importing the bank's return file of a released batch, and reconciling the batch.

The file (CSV in UTF-8 or GB18030, or xlsx) has a header row naming at least the line reference
(业务编号, the line's UUID written in the roster; or 序号 / 流水号, the line's number in its roster),
账号, 金额 and 状态 (or 错误代码), and optionally 错误代码 and 失败原因. Each row answers one line that
was sent: the line becomes PAID or FAILED and keeps the file's name, the bank's code and message.

Nothing is taken on trust: a row that matches no line of the batch, that answers a line twice, whose
amount or account disagrees with the line, whose status says neither success nor failure, or that
contradicts an earlier answer is not applied and is reported (in the result and in
`BankReturn.problems`). A file that cannot be read, or none of whose rows matches the batch, changes
nothing at all. The same file (same bytes) imported again changes nothing and says so.

After the import the batch is reconciled to the fen: the lines sent = paid + failed + still waiting,
and what the returns recorded = what the lines say. A mismatch is reported, never swallowed; the batch
is closed only when every sent line has an answer and everything agrees.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import files, workflow
from core.audit import trail
from core.crypto import mask
from core.intake import text as csv_text
from core.intake import workbook
from core.intake.problems import FileError, FileProblem
from core.money import CENT, to_money
from core.tenancy.context import current_tenant_id, tenant_transaction
from funding.models import ZERO

from ..models import BankReturn, Batch, BatchStatus, LineStatus, PaymentLine
from .exports import SENT_STATES, require_manager

#: Rows of a return file (a batch of a whole district is well below this).
MAX_ROWS = workbook.MAX_ROWS
#: Rows at the top that may hold a title before the header row.
HEADER_SEARCH_ROWS = 10
_UPDATE_CHUNK = 1000

# The header words banks use, normalised (no spaces, no asterisks or brackets).
_HEADERS = {
    "ref": ("业务编号", "业务参考号", "参考号"),
    "seq": ("序号", "流水号", "顺序号", "明细序号"),
    "account": ("账号", "卡号", "银行账号", "收款账号", "收款人账号", "账户"),
    "amount": ("金额", "发放金额", "交易金额", "实发金额", "代发金额"),
    "status": ("状态", "处理状态", "交易状态", "处理结果", "结果"),
    "code": ("错误代码", "错误码", "返回码", "响应码", "失败代码"),
    "message": ("失败原因", "错误信息", "错误原因", "原因", "返回信息", "备注"),
}
_HEADER_KEYS = {word: key for key, words in _HEADERS.items() for word in words}
_HEADER_NOISE = re.compile(r"[\s*＊:：()（）]")

_SUCCESS_CODES = frozenset({"0", "00", "000", "0000", "00000", "000000"})
_SUCCESS = frozenset({"成功", "交易成功", "处理成功", "已成功", "入账成功", "已入账", "发放成功", "支付成功", "S",
                      "SUCCESS", "OK", "Y"}) | _SUCCESS_CODES  # fmt: skip
_FAILURE = frozenset({"失败", "交易失败", "处理失败", "发放失败", "支付失败", "已退回", "退回", "退票", "F", "FAIL",
                      "FAILED", "FAILURE", "N", "E", "ERROR"})  # fmt: skip
_TOTAL_WORDS = ("合计", "总计")

MSG_NOT_RELEASED = _("This batch has not been released to the bank: it has no return to import.")
MSG_TOO_LARGE = _("The return file is larger than %(limit)s MB.")
MSG_NOT_A_FILE = _("The return file is neither an Excel workbook (.xlsx) nor a CSV file in UTF-8 or GB18030.")
MSG_OLD_XLS = _(
    "The return file is an old Excel 97-2003 file (.xls) or a password-protected workbook: save it as .xlsx or CSV."
)
MSG_UNSAFE = _(
    "The return file was not opened: it holds parts no spreadsheet program writes, or unpacks to far more data "
    "than a return file holds. Save it again from Excel."
)
MSG_FORMULA = _("The return file contains formulas (cells %(cells)s): save it with values only.")
MSG_TOO_MANY_ROWS = _("The return file has more than %(limit)s rows.")
MSG_UNREADABLE = _("The return file could not be read (%(detail)s).")
MSG_MISSING_COLUMNS = _(
    "The return file has no header row naming these columns: %(columns)s. (The line reference is the 业务编号 "
    "or the 序号 of the payment roster.)"
)
MSG_NO_ROWS = _("The return file has no lines below its header row.")
MSG_MATCHES_NOTHING = _(
    "No row of this file answers a line of this batch: is it the return of another batch? Nothing was changed."
)
MSG_ALREADY = _("This file was imported before (as %(file)s): nothing changed.")
MSG_SUMMARY = _(
    "%(paid)s lines paid (%(paid_amount)s yuan), %(failed)s failed (%(failed_amount)s yuan); %(problems)s rows of "
    "the file were not applied."
)
MSG_CLOSED = _("Every line has the bank's answer and the batch reconciles to the fen: it is closed.")
MSG_BALANCED = _("The batch reconciles to the fen; some lines still wait for the bank's answer.")
MSG_UNBALANCED = _("The batch does NOT reconcile: see the problems.")
MSG_CONCURRENT = _("Some lines of this batch changed while the return was being imported. Try again.")


class ReturnProblem(StrEnum):
    """Why a row of the return was not applied (stable codes: reports and scripts name them)."""

    BAD_REFERENCE = "BAD_REFERENCE"
    UNKNOWN_LINE = "UNKNOWN_LINE"
    OTHER_BATCH = "OTHER_BATCH"
    NOT_SENT = "NOT_SENT"
    AMBIGUOUS = "AMBIGUOUS"
    DUPLICATE = "DUPLICATE"
    BAD_AMOUNT = "BAD_AMOUNT"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    ACCOUNT_MISMATCH = "ACCOUNT_MISMATCH"
    UNKNOWN_STATUS = "UNKNOWN_STATUS"
    CONFLICT = "CONFLICT"
    FILE_TOTAL = "FILE_TOTAL"
    RECONCILIATION = "RECONCILIATION"


PROBLEM_MESSAGES = {
    ReturnProblem.BAD_REFERENCE: _("“%(value)s” is neither a line number nor a 业务编号 of the payment roster."),
    ReturnProblem.UNKNOWN_LINE: _("No line of this batch has the reference %(reference)s."),
    ReturnProblem.OTHER_BATCH: _("Line %(reference)s belongs to another batch (%(batch)s)."),
    ReturnProblem.NOT_SENT: _("Line %(reference)s was not sent to the bank in this batch (%(status)s)."),
    ReturnProblem.AMBIGUOUS: _(
        "Line number %(reference)s with this account fits more than one line of the batch: the bank's file needs "
        "the 业务编号 column."
    ),
    ReturnProblem.DUPLICATE: _("Line %(reference)s is answered more than once (rows %(rows)s): none was applied."),
    ReturnProblem.BAD_AMOUNT: _("“%(value)s” is not an amount of money."),
    ReturnProblem.AMOUNT_MISMATCH: _("The file says %(file)s, the line is for %(line)s."),
    ReturnProblem.ACCOUNT_MISMATCH: _("The file names account %(file)s, the line was sent to %(line)s."),
    ReturnProblem.UNKNOWN_STATUS: _("The status “%(value)s” says neither success nor failure: the line still waits."),
    ReturnProblem.CONFLICT: _(
        "Line %(reference)s was already answered (%(status)s, %(code)s) by %(file)s; this file says %(new)s. "
        "Nothing was changed."
    ),
    ReturnProblem.FILE_TOTAL: _("The file's own total (%(file)s) is not the sum of its rows (%(rows)s)."),
    ReturnProblem.RECONCILIATION: _("The batch does not reconcile: %(detail)s"),
}


class ReturnFileError(ValidationError):
    """The return file cannot be applied at all; nothing was changed. The message says why."""


# --- Reading the file ---------------------------------------------------------------------------------


@dataclass
class ReturnRow:
    row: int  # as the bank's program numbers it (Excel row, CSV line)
    reference: str
    account: str
    amount: str
    status: str
    code: str
    message: str


@dataclass
class ReturnFile:
    rows: list[ReturnRow]
    fingerprint: str
    has_ref: bool  # the reference column is the 业务编号 (UUIDs), not a line number
    total_row: int | None = None
    total: str = ""


def _text(cell: Any) -> str:
    """A cell as text: integral floats without their .0 (calamine reads numbers as floats)."""
    if cell is None:
        return ""
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    return str(cell).strip()


def _header_columns(cells: list[Any]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = _HEADER_KEYS.get(_HEADER_NOISE.sub("", _text(cell)))
        if key and key not in columns:
            columns[key] = index
    return columns


def _required_missing(columns: dict[str, int]) -> list[str]:
    missing = []
    if "ref" not in columns and "seq" not in columns:
        missing.append("业务编号/序号")
    if "account" not in columns:
        missing.append("账号")
    if "amount" not in columns:
        missing.append("金额")
    if "status" not in columns and "code" not in columns:
        missing.append("状态")
    return missing


def _parse_rows(rows: Iterator[tuple[int, list[Any]]], fingerprint: str) -> ReturnFile:
    """Find the header among the first rows, then read every row below it."""
    columns: dict[str, int] | None = None
    best: dict[str, int] = {}
    seen = 0
    parsed = ReturnFile(rows=[], fingerprint=fingerprint, has_ref=False)
    for number, cells in rows:
        texts = [_text(c) for c in cells]
        if not any(texts):
            continue
        if columns is None:
            seen += 1
            found = _header_columns(texts)
            best = found if len(found) > len(best) else best
            if not _required_missing(found):
                columns, parsed.has_ref = found, "ref" in found
                keys = ("ref" if parsed.has_ref else "seq", "account", "amount", "status", "code", "message")
                at = [columns.get(key) for key in keys]
            elif seen >= HEADER_SEARCH_ROWS:
                break
            continue
        values = [texts[i] if i is not None and i < len(texts) else "" for i in at]
        if next(t for t in texts if t).startswith(_TOTAL_WORDS):  # the bank's own total, under the lines
            parsed.total_row, parsed.total = number, values[2]
            continue
        parsed.rows.append(ReturnRow(number, *values))
        if len(parsed.rows) > MAX_ROWS:
            raise ReturnFileError(MSG_TOO_MANY_ROWS % {"limit": f"{MAX_ROWS:,}"})
    if columns is None:
        raise ReturnFileError(MSG_MISSING_COLUMNS % {"columns": "、".join(_required_missing(best))})
    if not parsed.rows:
        raise ReturnFileError(MSG_NO_ROWS)
    return parsed


def _materialise(path_or_file: str | Path | IO[bytes]) -> tuple[Path, str, tempfile.TemporaryDirectory | None]:
    """The file on disk (an upload is copied, within the size limit) and the SHA-256 of its bytes."""
    limit = settings.MAX_UPLOAD_BYTES
    workdir = None if isinstance(path_or_file, str | Path) else tempfile.TemporaryDirectory(prefix="bank-return-")
    try:
        path, digest = files.on_disk(
            path_or_file, workdir=Path(workdir.name) if workdir else None, name="return", limit=limit
        )
    except files.TooLarge:
        if workdir is not None:
            workdir.cleanup()
        raise ReturnFileError(MSG_TOO_LARGE % {"limit": limit // (1024 * 1024)}) from None
    return path, digest, workdir


_FILE_PROBLEMS = {
    FileProblem.TOO_LARGE: MSG_TOO_LARGE,
    FileProblem.NOT_XLSX: MSG_NOT_A_FILE,
    FileProblem.OLD_XLS: MSG_OLD_XLS,
    FileProblem.ZIP_BOMB: MSG_UNSAFE,
    FileProblem.XML_ENTITIES: MSG_UNSAFE,
    FileProblem.FORMULA: MSG_FORMULA,
    FileProblem.TOO_MANY_ROWS: MSG_TOO_MANY_ROWS,
    FileProblem.UNREADABLE: MSG_UNREADABLE,
    FileProblem.ENCODING: MSG_NOT_A_FILE,
}


def _read_workbook(path: Path, fingerprint: str) -> ReturnFile:
    """The return is on the first sheet that has a header row (banks add cover or summary sheets)."""
    first_error: ReturnFileError | None = None
    for sheet in workbook.sheets(path):
        try:
            return _parse_rows(sheet.rows(), fingerprint)
        except ReturnFileError as exc:
            first_error = first_error or exc
    raise first_error or ReturnFileError(MSG_NO_ROWS)


def read_return(path_or_file: str | Path | IO[bytes]) -> ReturnFile:
    """Read and check the bank's return file (core.intake's checks, on every sheet): a ReturnFileError
    says why it cannot be used."""
    path, fingerprint, workdir = _materialise(path_or_file)
    try:
        try:
            if workbook.is_xlsx(path):
                workbook.inspect_every_sheet(path)
                return _read_workbook(path, fingerprint)
            text = csv_text.decode(path.read_bytes())
        except FileError as exc:
            raise ReturnFileError(exc.message_in(_FILE_PROBLEMS)) from exc
        return _parse_rows(csv_text.rows(text), fingerprint)
    finally:
        if workdir is not None:
            workdir.cleanup()


# --- Matching and applying ----------------------------------------------------------------------------


@dataclass
class _Line:
    pk: uuid.UUID
    seq: int
    status: str
    amount: Decimal
    account: str
    return_file: str
    bank_code: str
    removed_reason: str


@dataclass
class Reconciliation:
    """The batch's money to the fen: the lines sent against their answers, and the lines' answers
    against what the imported returns recorded."""

    sent_count: int = 0
    sent_amount: Decimal = ZERO
    paid_count: int = 0
    paid_amount: Decimal = ZERO
    failed_count: int = 0
    failed_amount: Decimal = ZERO
    waiting_count: int = 0
    waiting_amount: Decimal = ZERO
    problems: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return not self.problems

    @property
    def complete(self) -> bool:
        """Every sent line has the bank's answer."""
        return self.sent_count > 0 and self.waiting_count == 0


@dataclass
class ReturnResult:
    """What an import did: the return recorded (or found, if the same file came before), the lines
    it marked, the rows it could not apply, and the batch's reconciliation afterwards."""

    bank_return: BankReturn
    already_imported: bool = False
    paid_count: int = 0
    paid_amount: Decimal = ZERO
    failed_count: int = 0
    failed_amount: Decimal = ZERO
    unchanged: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    reconciliation: Reconciliation = field(default_factory=Reconciliation)
    closed: bool = False

    def __str__(self) -> str:
        """One sentence for the person who imported the file (a page's message, a command's output)."""
        if self.already_imported:
            return str(MSG_ALREADY % {"file": self.bank_return.file_name})
        summary = MSG_SUMMARY % {
            "paid": self.paid_count,
            "paid_amount": f"{self.paid_amount:.2f}",
            "failed": self.failed_count,
            "failed_amount": f"{self.failed_amount:.2f}",
            "problems": sum(1 for p in self.problems if p["row"] is not None),
        }
        state = MSG_CLOSED if self.closed else MSG_BALANCED if self.reconciliation.balanced else MSG_UNBALANCED
        return f"{summary} {state}"


def batch_reconcile(*, batch: Batch) -> Reconciliation:
    """Sum of the lines sent == paid + failed + still waiting, and the paid and failed lines == what
    the batch's returns recorded, to the fen. Mismatches are listed, never rounded away."""
    r = Reconciliation()
    sent = PaymentLine.objects.filter(batch=batch, status__in=SENT_STATES)
    totals = sent.aggregate(n=Count("pk"), total=Sum("amount"))
    r.sent_count, r.sent_amount = totals["n"], to_money(totals["total"])
    by_status = sent.order_by().values("status").annotate(n=Count("pk"), total=Sum("amount"))
    for status, n, total in by_status.values_list("status", "n", "total"):
        if status == LineStatus.PAID:
            r.paid_count, r.paid_amount = n, to_money(total)
        elif status == LineStatus.FAILED:
            r.failed_count, r.failed_amount = n, to_money(total)
        else:
            r.waiting_count, r.waiting_amount = n, to_money(total)
    returned = BankReturn.objects.filter(batch=batch).aggregate(
        pc=Sum("paid_count"), pa=Sum("paid_amount"), fc=Sum("failed_count"), fa=Sum("failed_amount")
    )
    answered = r.paid_amount + r.failed_amount + r.waiting_amount
    answered_n = r.paid_count + r.failed_count + r.waiting_count
    if (r.sent_count, r.sent_amount) != (answered_n, answered):
        r.problems.append(
            str(
                _("sent %(sent)s (%(n)s lines) but paid + failed + waiting = %(sum)s (%(m)s lines)")
                % {"sent": r.sent_amount, "n": r.sent_count, "sum": answered, "m": answered_n}
            )
        )
    for label, lines_n, lines_amount, n, amount in (
        (_("paid"), r.paid_count, r.paid_amount, returned["pc"] or 0, to_money(returned["pa"])),
        (_("failed"), r.failed_count, r.failed_amount, returned["fc"] or 0, to_money(returned["fa"])),
    ):
        if (lines_n, lines_amount) != (n, amount):
            r.problems.append(
                str(
                    _("%(what)s lines: %(lines)s (%(n)s) but the bank's returns recorded %(returns)s (%(m)s)")
                    % {"what": label, "lines": lines_amount, "n": lines_n, "returns": amount, "m": n}
                )
            )
    return r


def _parse_amount(text: str) -> Decimal | None:
    cleaned = text.replace(",", "").replace("¥", "").replace("￥", "").replace("元", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.quantize(CENT):
        return None
    return value.quantize(CENT)


def _outcome(row: ReturnRow) -> str | None:
    """PAID or FAILED as the bank says, None if it says neither (never guessed)."""
    status, code = row.status.strip().upper(), row.code.strip().upper()
    if status:
        if status in _SUCCESS:
            return LineStatus.PAID
        if status in _FAILURE:
            return LineStatus.FAILED
        return None
    if not code:
        return None
    return LineStatus.PAID if code in _SUCCESS_CODES else LineStatus.FAILED


def _same_account(in_file: str, line: str) -> bool:
    """Equal digits; a masked number in the file (6221********1234) matches on the digits it shows."""
    in_file = "".join(in_file.split())
    if "*" not in in_file:
        return in_file == line
    return len(in_file) == len(line) and all(a in "*" or a == b for a, b in zip(in_file, line, strict=True))


def _load_lines(batch: Batch) -> tuple[dict[uuid.UUID, _Line], dict[int, list[_Line]]]:
    """The batch's lines by UUID, and its sent lines by their roster number (see exports: the position
    among the sent lines of the same bank and source, in build order)."""
    by_pk: dict[uuid.UUID, _Line] = {}
    by_seq: dict[int, list[_Line]] = defaultdict(list)
    group, seq = None, 0
    rows = (
        PaymentLine.objects.filter(batch=batch)
        .order_by("bank", "source", "created_at", "pk")
        .values_list(
            "pk", "bank", "source", "status", "amount", "account", "return_file", "bank_code", "removed_reason"
        )
    )
    for pk, bank, source, status, amount, account, return_file, bank_code, removed_reason in rows.iterator(2000):
        line = _Line(pk, 0, status, amount, account.reveal() if account else "", return_file, bank_code, removed_reason)
        by_pk[pk] = line
        if status in SENT_STATES:
            if (bank, source) != group:
                group, seq = (bank, source), 0
            seq += 1
            line.seq = seq
            by_seq[seq].append(line)
    return by_pk, by_seq


def _problem(row: ReturnRow | None, problem: ReturnProblem, **params: Any) -> dict[str, Any]:
    return {
        "row": row.row if row else None,
        "reference": row.reference if row else "",
        "problem": problem.value,
        "message": str(PROBLEM_MESSAGES[problem] % params),
    }


@dataclass
class _Plan:
    apply: dict[tuple[str, str, str], list[_Line]] = field(default_factory=lambda: defaultdict(list))
    unchanged: int = 0
    matched: int = 0  # rows that name a line of this batch (applied or not)
    problems: list[dict[str, Any]] = field(default_factory=list)


def _match(batch: Batch, parsed: ReturnFile) -> _Plan:
    """Decide, row by row, what the file may change; everything else becomes a problem."""
    plan = _Plan()
    by_pk, by_seq = _load_lines(batch)
    answers: dict[uuid.UUID, list[tuple[ReturnRow, _Line]]] = defaultdict(list)
    foreign: list[tuple[ReturnRow, uuid.UUID]] = []
    rows_total = ZERO
    for row in parsed.rows:
        amount = _parse_amount(row.amount)
        if amount is None:
            plan.problems.append(_problem(row, ReturnProblem.BAD_AMOUNT, value=row.amount))
            continue
        rows_total += amount
        line = None
        if parsed.has_ref:
            try:
                ref = uuid.UUID(row.reference)
            except ValueError:
                plan.problems.append(_problem(row, ReturnProblem.BAD_REFERENCE, value=row.reference))
                continue
            line = by_pk.get(ref)
            if line is None:
                foreign.append((row, ref))
                continue
        else:
            if not row.reference.isdigit():
                plan.problems.append(_problem(row, ReturnProblem.BAD_REFERENCE, value=row.reference))
                continue
            candidates = by_seq.get(int(row.reference), [])
            fitting = [c for c in candidates if _same_account(row.account, c.account)]
            if len(fitting) > 1:
                plan.problems.append(_problem(row, ReturnProblem.AMBIGUOUS, reference=row.reference))
                continue
            if not fitting:
                if len(candidates) == 1:
                    line = candidates[0]  # the number fits one line: its account check below says what is wrong
                else:
                    plan.problems.append(_problem(row, ReturnProblem.UNKNOWN_LINE, reference=row.reference))
                    continue
            else:
                line = fitting[0]
        answers[line.pk].append((row, line))
        plan.matched += 1
    _report_foreign(batch, foreign, plan)
    if parsed.total_row is not None:
        stated = _parse_amount(parsed.total)
        if stated != rows_total:
            plan.problems.append(
                _problem(
                    ReturnRow(parsed.total_row, "", "", parsed.total, "", "", ""),
                    ReturnProblem.FILE_TOTAL,
                    file=parsed.total or "—",
                    rows=rows_total,
                )
            )
    for entries in answers.values():
        if len(entries) > 1:
            rows = "、".join(str(r.row) for r, _line in entries)
            plan.problems.extend(
                _problem(r, ReturnProblem.DUPLICATE, reference=r.reference, rows=rows) for r, _line in entries
            )
            continue
        row, line = entries[0]
        _plan_row(row, line, parsed, plan)
    return plan


def _report_foreign(batch: Batch, foreign: list[tuple[ReturnRow, uuid.UUID]], plan: _Plan) -> None:
    """Rows naming lines that are not this batch's: say whose they are, when they are this tenant's."""
    owners = dict(
        PaymentLine.objects.filter(pk__in=[ref for _row, ref in foreign])
        .exclude(batch=batch)
        .values_list("pk", "batch__number")
    )
    for row, ref in foreign:
        if ref in owners:
            plan.problems.append(_problem(row, ReturnProblem.OTHER_BATCH, reference=row.reference, batch=owners[ref]))
        else:
            plan.problems.append(_problem(row, ReturnProblem.UNKNOWN_LINE, reference=row.reference))


def _plan_row(row: ReturnRow, line: _Line, parsed: ReturnFile, plan: _Plan) -> None:
    if line.status not in SENT_STATES:
        status = f"{LineStatus(line.status).label}{': ' + line.removed_reason if line.removed_reason else ''}"
        plan.problems.append(_problem(row, ReturnProblem.NOT_SENT, reference=row.reference, status=status))
        return
    amount = _parse_amount(row.amount)
    if amount != line.amount:
        plan.problems.append(_problem(row, ReturnProblem.AMOUNT_MISMATCH, file=row.amount, line=line.amount))
        return
    if not _same_account(row.account, line.account):
        plan.problems.append(
            _problem(
                row,
                ReturnProblem.ACCOUNT_MISMATCH,
                file=mask("".join(row.account.split()), "account") or "—",
                line=mask(line.account, "account"),
            )
        )
        return
    outcome = _outcome(row)
    if outcome is None:
        plan.problems.append(_problem(row, ReturnProblem.UNKNOWN_STATUS, value=row.status or row.code))
        return
    code, message = row.code[:40], row.message[:200]
    if line.status == LineStatus.EXPORTED:
        plan.apply[(outcome, code, message)].append(line)
    elif line.status == outcome and line.bank_code == code:
        plan.unchanged += 1  # answered alike by an earlier file: nothing to do
    else:
        plan.problems.append(
            _problem(
                row,
                ReturnProblem.CONFLICT,
                reference=row.reference,
                status=LineStatus(line.status).label,
                code=line.bank_code or "—",
                file=line.return_file or "—",
                new=f"{LineStatus(outcome).label} {code}".strip(),
            )
        )


def bank_return_import(
    *, actor: Any, batch: Batch, path_or_file: str | Path | IO[bytes], file_name: str
) -> ReturnResult:
    """Apply the bank's return to the batch's sent lines in one transaction (see the module docstring):
    the lines answered become PAID or FAILED with the file's name and the bank's code and message, a
    BankReturn records the file with its counts, amounts and problems, and the batch is reconciled
    (and closed when every line is answered and everything agrees). The same file twice changes nothing."""
    with tenant_transaction(current_tenant_id()):
        require_manager(actor, batch)
    parsed = read_return(path_or_file)  # between the transactions: no file work while rows are locked
    with tenant_transaction(current_tenant_id()):
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        if batch.status not in (BatchStatus.RELEASED, BatchStatus.CLOSED):
            raise ReturnFileError(MSG_NOT_RELEASED)
        earlier = BankReturn.objects.filter(batch=batch, fingerprint=parsed.fingerprint).first()
        if earlier is not None:
            return ReturnResult(bank_return=earlier, already_imported=True, reconciliation=batch_reconcile(batch=batch))
        plan = _match(batch, parsed)
        if not plan.matched:
            raise ReturnFileError(MSG_MATCHES_NOTHING)
        result = _apply(actor, batch, plan, file_name[:200], parsed.fingerprint)
        result.reconciliation = reconciliation = batch_reconcile(batch=batch)
        if reconciliation.problems:
            result.problems.extend(
                _problem(None, ReturnProblem.RECONCILIATION, detail=p) for p in reconciliation.problems
            )
            result.bank_return.problems = result.problems
            result.bank_return.save(update_fields=["problems", "updated_at"])
        elif reconciliation.complete and batch.status == BatchStatus.RELEASED:
            batch.close()
            with trail.labelled("batch.close", file_name[:200]):
                batch.save(update_fields=["status", "updated_at"])
            result.closed = True
    return result


def _apply(actor: Any, batch: Batch, plan: _Plan, file_name: str, fingerprint: str) -> ReturnResult:
    """A few UPDATEs (one per answer and chunk of lines, audited row by row), and the BankReturn row."""
    now = timezone.now()
    counts = {LineStatus.PAID: [0, ZERO], LineStatus.FAILED: [0, ZERO]}
    with trail.labelled("line.return", file_name):
        for (outcome, code, message), lines in plan.apply.items():
            for start in range(0, len(lines), _UPDATE_CHUNK):
                chunk = lines[start : start + _UPDATE_CHUNK]
                changed = workflow.bulk_transition(
                    PaymentLine.objects.filter(batch=batch, pk__in=[line.pk for line in chunk]),
                    "pay" if outcome == LineStatus.PAID else "fail",
                    return_file=file_name, bank_code=code, bank_message=message, returned_at=now, updated_at=now,
                )  # fmt: skip
                if changed != len(chunk):  # the batch is locked: only a bug or a manual change gets here
                    raise ReturnFileError(MSG_CONCURRENT)
                counts[outcome][0] += len(chunk)
                counts[outcome][1] += sum((line.amount for line in chunk), ZERO)
    (paid_n, paid_amount), (failed_n, failed_amount) = counts[LineStatus.PAID], counts[LineStatus.FAILED]
    bank_return = BankReturn.objects.create(
        batch=batch,
        file_name=file_name,
        fingerprint=fingerprint,
        imported_by=actor,
        paid_count=paid_n,
        paid_amount=paid_amount,
        failed_count=failed_n,
        failed_amount=failed_amount,
        problems=plan.problems,
    )
    return ReturnResult(
        bank_return=bank_return,
        paid_count=paid_n,
        paid_amount=paid_amount,
        failed_count=failed_n,
        failed_amount=failed_amount,
        unchanged=plan.unchanged,
        problems=list(plan.problems),
    )
