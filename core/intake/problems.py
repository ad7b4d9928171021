"""What can be wrong with an uploaded file: stable codes, and the sentences that explain them.

Codes are stable (reports, tests and scripts name them; a roster reader sends them between
processes); messages are translated (Chinese is shipped). `MESSAGES` is the kernel's one wording of
them. An intake whose users need advice of their own (the roster's teachers are told how to fix a
roster) words the problems it wants to in a subclass of FileError (`messages`), or with `message_in`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _


class FileProblem(StrEnum):
    """Why a file cannot be used at all."""

    TOO_LARGE = "TOO_LARGE"
    NOT_XLSX = "NOT_XLSX"  # not a workbook (and, where CSV is accepted, not text either)
    OLD_XLS = "OLD_XLS"  # Excel 97-2003, or an encrypted workbook
    ZIP_BOMB = "ZIP_BOMB"
    XML_ENTITIES = "XML_ENTITIES"
    FORMULA = "FORMULA"
    WRONG_SHEET = "WRONG_SHEET"
    MISSING_COLUMNS = "MISSING_COLUMNS"
    NO_ROWS = "NO_ROWS"
    TOO_MANY_ROWS = "TOO_MANY_ROWS"
    UNREADABLE = "UNREADABLE"
    ENCODING = "ENCODING"  # a CSV file neither UTF-8 nor GB18030


_UNSAFE = _("The workbook is packed or declared in a way Excel never writes, so it was not opened. Save it again.")

#: The kernel's words for each problem. WRONG_SHEET has none: only an intake that expects a sheet by
#: name (the roster) finds it, and it names the sheet in its own words.
MESSAGES: dict[FileProblem, Any] = {
    FileProblem.TOO_LARGE: _("The file is larger than %(limit)s MB. Split it into several files."),
    FileProblem.NOT_XLSX: _(
        "This is neither an Excel workbook (.xlsx) nor a CSV file. Save it from Excel or WPS as .xlsx."
    ),
    FileProblem.OLD_XLS: _(
        "This is an old Excel 97-2003 file (.xls) or a password-protected workbook: save it as .xlsx."
    ),
    FileProblem.ZIP_BOMB: _UNSAFE,
    FileProblem.XML_ENTITIES: _UNSAFE,
    FileProblem.FORMULA: _("The file contains formulas (cells %(cells)s): paste the sheet back as values only."),
    FileProblem.MISSING_COLUMNS: _(
        "No header row naming the columns %(columns)s was found in the first %(rows)s rows."
    ),
    FileProblem.NO_ROWS: _("The file has a header row but no data rows."),
    FileProblem.TOO_MANY_ROWS: _("The file has more than %(limit)s rows: split it."),
    FileProblem.UNREADABLE: _("The workbook could not be read (%(detail)s). Open it in Excel and save it again."),
    FileProblem.ENCODING: _("The CSV file is neither UTF-8 nor GB18030 text."),
}


class FileError(Exception):
    """The file cannot be used at all: the problem (a stable code) and the details its message names.
    `message` says why, for the person who uploaded it."""

    #: A subclass's own words for some problems (the kernel's MESSAGES for the others).
    messages: ClassVar[Mapping[FileProblem, Any]] = {}

    def __init__(self, problem: FileProblem, **params: Any) -> None:
        self.problem = problem
        self.params = params
        super().__init__(problem.value)

    @property
    def message(self) -> str:
        return self.message_in(self.messages)

    def message_in(self, messages: Mapping[FileProblem, Any]) -> str:
        """The message in the words of `messages` where they have some, else the kernel's; a problem
        nobody has words for is said to make the file unreadable, naming its code."""
        if self.problem in messages:
            return str(messages[self.problem]) % self.params
        if self.problem in MESSAGES:
            return str(MESSAGES[self.problem]) % self.params
        return str(MESSAGES[FileProblem.UNREADABLE]) % {"detail": self.problem.value}

    def __str__(self) -> str:
        return self.message


@contextmanager
def raised_as(error: type[FileError]) -> Iterator[None]:
    """Inside, a FileError of the kernel's checks leaves as `error` (an intake's subclass, with its
    words): the same problem and details."""
    try:
        yield
    except FileError as exc:
        if isinstance(exc, error):
            raise
        raise error(exc.problem, **exc.params) from exc
