"""What can be wrong with a roster file or one of its rows: stable codes, and messages a teacher understands.

Codes are stable (reports, tests and scripts name them); messages are translated (Chinese is shipped).
A file problem stops the import before any row is read; a row problem rejects that row only. The file
problems are the kernel's (core.intake.problems.FileProblem, imported here for the roster's modules);
their words here are the roster's.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from core.intake.problems import FileError, FileProblem
from students.idcard import PROBLEM_MESSAGES, IdProblem

#: The roster's words for the file's problems (core.intake's FileProblem): they tell a teacher how to
#: fix a roster.
FILE_MESSAGES = {
    FileProblem.TOO_LARGE: _(
        "The file is larger than %(limit)s MB. Split the roster into several files (for example one per school)."
    ),
    FileProblem.NOT_XLSX: _(
        "This is not an Excel workbook (.xlsx). Open the file in Excel or WPS and save it as an Excel workbook "
        "(*.xlsx)."
    ),
    FileProblem.OLD_XLS: _(
        "This is an old Excel 97-2003 file (.xls) or a password-protected workbook. Remove any password and save it "
        "as an Excel workbook (*.xlsx)."
    ),
    FileProblem.ZIP_BOMB: _(
        "The workbook unpacks to far more data than a roster holds (over %(limit)s MB, or packed suspiciously "
        "tightly), so it was not opened. Save the roster again from Excel without pictures or formatted empty rows."
    ),
    FileProblem.XML_ENTITIES: _(
        "The workbook contains XML declarations (DOCTYPE or ENTITY) that Excel never writes, so it was not opened. "
        "Save the roster again from Excel."
    ),
    FileProblem.FORMULA: _(
        "The roster contains formulas (cells %(cells)s). Copy the sheet and paste it back as values only, "
        "then upload it again."
    ),
    FileProblem.WRONG_SHEET: _(
        "The workbook has no sheet named “%(expected)s” (sheets found: %(found)s). Name the roster's sheet "
        "“%(expected)s”."
    ),
    FileProblem.MISSING_COLUMNS: _(
        "These required columns are missing: %(columns)s. Use the header row of the template."
    ),
    FileProblem.NO_ROWS: _("The sheet has no pupils below its header row."),
    FileProblem.TOO_MANY_ROWS: _("The sheet has more than %(limit)s rows. Split the roster into several files."),
    FileProblem.UNREADABLE: _(
        "The workbook could not be read (%(detail)s). Open it in Excel, save it again as .xlsx and upload it again."
    ),
}


class RosterFileError(FileError):
    """The file cannot be imported at all; `message` says why, in the roster's words (FILE_MESSAGES),
    for the person who uploaded it."""

    messages = FILE_MESSAGES


class RowCode(StrEnum):
    """Why a row was rejected. The ID number's own problems keep idcard's codes (ID_CHECK_DIGIT, …)."""

    MISSING_VALUE = "MISSING_VALUE"
    BAD_VALUE = "BAD_VALUE"
    BAD_CHOICE = "BAD_CHOICE"
    NUMBER_LOST_DIGITS = "NUMBER_LOST_DIGITS"
    UNKNOWN_SCHOOL = "UNKNOWN_SCHOOL"
    UNKNOWN_CLASS = "UNKNOWN_CLASS"
    NOT_YOUR_SCHOOL = "NOT_YOUR_SCHOOL"
    BIRTH_MISMATCH = "BIRTH_MISMATCH"
    SEX_MISMATCH = "SEX_MISMATCH"
    GUARDIAN_ID_INVALID = "GUARDIAN_ID_INVALID"
    DUPLICATE_IN_FILE = "DUPLICATE_IN_FILE"
    AT_OTHER_SCHOOL = "AT_OTHER_SCHOOL"
    STUDENT_NO_TAKEN = "STUDENT_NO_TAKEN"
    CHANGED_MEANWHILE = "CHANGED_MEANWHILE"


ROW_MESSAGES = {
    RowCode.MISSING_VALUE: _("“%(column)s” is empty; it is required."),
    RowCode.BAD_VALUE: _("“%(column)s” is not valid: %(hint)s"),
    RowCode.BAD_CHOICE: _("“%(column)s” must be one of: %(choices)s."),
    RowCode.NUMBER_LOST_DIGITS: _(
        "“%(column)s” was stored as a number, so Excel kept only 15 digits. Format the column as Text and enter "
        "the number again."
    ),
    RowCode.UNKNOWN_SCHOOL: _("No school of the district has the school code “%(code)s”."),
    RowCode.UNKNOWN_CLASS: _(
        "%(school)s has no class %(number)s in the %(stage)s grade that entered in %(year)s. Create the class "
        "first, or correct the row."
    ),
    RowCode.NOT_YOUR_SCHOOL: _("The row is for %(school)s; you may import rows of your own school only."),
    RowCode.BIRTH_MISMATCH: _("The birth date %(given)s does not match the ID number (%(expected)s)."),
    RowCode.SEX_MISMATCH: _("The sex “%(given)s” does not match the ID number (%(expected)s)."),
    RowCode.GUARDIAN_ID_INVALID: _("“%(column)s” is not a valid ID number: %(problem)s"),
    RowCode.DUPLICATE_IN_FILE: _(
        "The same %(column)s appears in the file more than once (rows %(rows)s); none of these rows was imported."
    ),
    RowCode.AT_OTHER_SCHOOL: _(
        "This ID number is already registered at %(school)s (registered at one school, studying at another). "
        "Finish the transfer there first, or check the ID number."
    ),
    RowCode.STUDENT_NO_TAKEN: _("The registration number already belongs to another pupil of the district."),
    RowCode.CHANGED_MEANWHILE: _("The pupil was registered by someone else while the import ran; import again."),
}

#: Hints for BAD_VALUE.
HINT_YEAR = _("a year such as 2024")
HINT_CLASS = _("a class number such as 3")
HINT_DATE = _("a date such as 2015-06-15")
HINT_PHONE = _("digits only, such as 13800001234")
HINT_ACCOUNT = _("digits only, 6 to 30 of them")
HINT_STUDENT_NO = _("letters and digits only, at most 30")
HINT_TOO_LONG = _("at most %(n)s characters")
HINT_NOT_TEXT = _("text was expected")

ANOTHER_SCHOOL = _("another school of the district")
MOVED_NOTE = _("Moved here from %(school)s, where the pupil's status was “%(status)s”.")


class RowError:
    """One problem of one row: a stable code and the message shown in the report."""

    __slots__ = ("code", "message")

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"RowError({self.code})"


def row_error(code: RowCode, /, **params: Any) -> RowError:
    return RowError(code.value, str(ROW_MESSAGES[code]) % params)


def id_error(problem: IdProblem) -> RowError:
    return RowError(problem.value, str(PROBLEM_MESSAGES[problem]))
