"""What a bank-return import tells the person: its problems and messages, and its refusal."""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

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
