"""A batch reconciled to the fen: the lines sent against their answers, and the answers against what
the imported returns recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from core.money import to_money
from funding.models import ZERO

from ...models import BankReturn, Batch, LineStatus, PaymentLine
from ..exports import SENT_STATES


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
