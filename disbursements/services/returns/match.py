"""Matching a return's rows to the batch's sent lines: what each row answers, and every row that
cannot be applied, with the reason (nothing is taken on trust)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from core.crypto import mask
from core.money import CENT
from funding.models import ZERO

from ...models import Batch, LineStatus, PaymentLine
from ..exports import SENT_STATES
from .messages import PROBLEM_MESSAGES, ReturnProblem
from .parse import ReturnFile, ReturnRow

#: How banks write success and failure in the status column (a code of zeros is success).
_SUCCESS_CODES = frozenset({"0", "00", "000", "0000", "00000", "000000"})
_SUCCESS = frozenset({"成功", "交易成功", "处理成功", "已成功", "入账成功", "已入账", "发放成功", "支付成功", "S",
                      "SUCCESS", "OK", "Y"}) | _SUCCESS_CODES  # fmt: skip
_FAILURE = frozenset({"失败", "交易失败", "处理失败", "发放失败", "支付失败", "已退回", "退回", "退票", "F", "FAIL",
                      "FAILED", "FAILURE", "N", "E", "ERROR"})  # fmt: skip


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


def row_problem(row: ReturnRow | None, problem: ReturnProblem, **params: Any) -> dict[str, Any]:
    return {
        "row": row.row if row else None,
        "reference": row.reference if row else "",
        "problem": problem.value,
        "message": str(PROBLEM_MESSAGES[problem] % params),
    }


@dataclass
class Plan:
    apply: dict[tuple[str, str, str], list[_Line]] = field(default_factory=lambda: defaultdict(list))
    unchanged: int = 0
    matched: int = 0  # rows that name a line of this batch (applied or not)
    problems: list[dict[str, Any]] = field(default_factory=list)


def match_rows(batch: Batch, parsed: ReturnFile) -> Plan:
    """Decide, row by row, what the file may change; everything else becomes a problem."""
    plan = Plan()
    by_pk, by_seq = _load_lines(batch)
    answers: dict[uuid.UUID, list[tuple[ReturnRow, _Line]]] = defaultdict(list)
    foreign: list[tuple[ReturnRow, uuid.UUID]] = []
    rows_total = ZERO
    for row in parsed.rows:
        amount = _parse_amount(row.amount)
        if amount is None:
            plan.problems.append(row_problem(row, ReturnProblem.BAD_AMOUNT, value=row.amount))
            continue
        rows_total += amount
        line = None
        if parsed.has_ref:
            try:
                ref = uuid.UUID(row.reference)
            except ValueError:
                plan.problems.append(row_problem(row, ReturnProblem.BAD_REFERENCE, value=row.reference))
                continue
            line = by_pk.get(ref)
            if line is None:
                foreign.append((row, ref))
                continue
        else:
            if not row.reference.isdigit():
                plan.problems.append(row_problem(row, ReturnProblem.BAD_REFERENCE, value=row.reference))
                continue
            candidates = by_seq.get(int(row.reference), [])
            fitting = [c for c in candidates if _same_account(row.account, c.account)]
            if len(fitting) > 1:
                plan.problems.append(row_problem(row, ReturnProblem.AMBIGUOUS, reference=row.reference))
                continue
            if not fitting:
                if len(candidates) == 1:
                    line = candidates[0]  # the number fits one line: its account check below says what is wrong
                else:
                    plan.problems.append(row_problem(row, ReturnProblem.UNKNOWN_LINE, reference=row.reference))
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
                row_problem(
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
                row_problem(r, ReturnProblem.DUPLICATE, reference=r.reference, rows=rows) for r, _line in entries
            )
            continue
        row, line = entries[0]
        _plan_row(row, line, parsed, plan)
    return plan


def _report_foreign(batch: Batch, foreign: list[tuple[ReturnRow, uuid.UUID]], plan: Plan) -> None:
    """Rows naming lines that are not this batch's: say whose they are, when they are this tenant's."""
    owners = dict(
        PaymentLine.objects.filter(pk__in=[ref for _row, ref in foreign])
        .exclude(batch=batch)
        .values_list("pk", "batch__number")
    )
    for row, ref in foreign:
        if ref in owners:
            plan.problems.append(
                row_problem(row, ReturnProblem.OTHER_BATCH, reference=row.reference, batch=owners[ref])
            )
        else:
            plan.problems.append(row_problem(row, ReturnProblem.UNKNOWN_LINE, reference=row.reference))


def _plan_row(row: ReturnRow, line: _Line, parsed: ReturnFile, plan: Plan) -> None:
    if line.status not in SENT_STATES:
        status = f"{LineStatus(line.status).label}{': ' + line.removed_reason if line.removed_reason else ''}"
        plan.problems.append(row_problem(row, ReturnProblem.NOT_SENT, reference=row.reference, status=status))
        return
    amount = _parse_amount(row.amount)
    if amount != line.amount:
        plan.problems.append(row_problem(row, ReturnProblem.AMOUNT_MISMATCH, file=row.amount, line=line.amount))
        return
    if not _same_account(row.account, line.account):
        plan.problems.append(
            row_problem(
                row,
                ReturnProblem.ACCOUNT_MISMATCH,
                file=mask("".join(row.account.split()), "account") or "—",
                line=mask(line.account, "account"),
            )
        )
        return
    outcome = _outcome(row)
    if outcome is None:
        plan.problems.append(row_problem(row, ReturnProblem.UNKNOWN_STATUS, value=row.status or row.code))
        return
    code, message = row.code[:40], row.message[:200]
    if line.status == LineStatus.EXPORTED:
        plan.apply[(outcome, code, message)].append(line)
    elif line.status == outcome and line.bank_code == code:
        plan.unchanged += 1  # answered alike by an earlier file: nothing to do
    else:
        plan.problems.append(
            row_problem(
                row,
                ReturnProblem.CONFLICT,
                reference=row.reference,
                status=LineStatus(line.status).label,
                code=line.bank_code or "—",
                file=line.return_file or "—",
                new=f"{LineStatus(outcome).label} {code}".strip(),
            )
        )
