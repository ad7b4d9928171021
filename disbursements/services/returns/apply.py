"""Applying a matched return: the lines marked paid or failed in a few statements, the return
recorded, the batch reconciled and closed when everything agrees."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.utils import timezone

from core import workflow
from core.audit import trail
from core.tenancy.context import current_tenant_id, tenant_transaction
from funding.models import ZERO

from ...batch_summary import batch_summary_refresh
from ...models import BankReturn, Batch, BatchStatus, LineStatus, PaymentLine
from ...summary import money_summary_refresh
from ..exports import require_manager
from .match import Plan, match_rows, row_problem
from .messages import (
    MSG_ALREADY,
    MSG_BALANCED,
    MSG_CLOSED,
    MSG_CONCURRENT,
    MSG_MATCHES_NOTHING,
    MSG_NOT_RELEASED,
    MSG_SUMMARY,
    MSG_UNBALANCED,
    ReturnFileError,
    ReturnProblem,
)
from .parse import read_return
from .reconcile import Reconciliation, batch_reconcile

#: Lines marked per UPDATE: a district's batch in a few statements, each audited row by row.
UPDATE_CHUNK = 1000


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
        plan = match_rows(batch, parsed)
        if not plan.matched:
            raise ReturnFileError(MSG_MATCHES_NOTHING)
        result = _apply(actor, batch, plan, file_name[:200], parsed.fingerprint)
        # The money of the batch's schools, recomputed in this transaction (disbursements.summary).
        schools = PaymentLine.objects.filter(batch=batch).order_by().values_list("school_id", flat=True).distinct()
        money_summary_refresh(semester_id=batch.semester_id, school_ids=list(schools))
        batch_summary_refresh(batch_ids=[batch.pk])
        result.reconciliation = reconciliation = batch_reconcile(batch=batch)
        if reconciliation.problems:
            result.problems.extend(
                row_problem(None, ReturnProblem.RECONCILIATION, detail=p) for p in reconciliation.problems
            )
            result.bank_return.problems = result.problems
            result.bank_return.save(update_fields=["problems", "updated_at"])
        elif reconciliation.complete and batch.status == BatchStatus.RELEASED:
            batch.close()
            with trail.labelled("batch.close", file_name[:200]):
                batch.save(update_fields=["status", "updated_at"])
            result.closed = True
    return result


def _apply(actor: Any, batch: Batch, plan: Plan, file_name: str, fingerprint: str) -> ReturnResult:
    """A few UPDATEs (one per answer and chunk of lines, audited row by row), and the BankReturn row."""
    now = timezone.now()
    counts = {LineStatus.PAID: [0, ZERO], LineStatus.FAILED: [0, ZERO]}
    with trail.labelled("line.return", file_name):
        for (outcome, code, message), lines in plan.apply.items():
            for start in range(0, len(lines), UPDATE_CHUNK):
                chunk = lines[start : start + UPDATE_CHUNK]
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
