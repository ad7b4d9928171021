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

from .apply import ReturnResult, bank_return_import
from .messages import PROBLEM_MESSAGES, ReturnFileError, ReturnProblem
from .parse import ReturnFile, ReturnRow, read_return
from .reconcile import Reconciliation, batch_reconcile

__all__ = [
    "PROBLEM_MESSAGES",
    "Reconciliation",
    "ReturnFile",
    "ReturnFileError",
    "ReturnProblem",
    "ReturnResult",
    "ReturnRow",
    "bank_return_import",
    "batch_reconcile",
    "read_return",
]
