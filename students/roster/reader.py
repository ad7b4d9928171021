"""Opening an uploaded roster safely, then reading its rows.

The checks are the kernel's (core.intake.workbook: size, magic number, zip directory, zip bombs, XML
declarations, formulas, row count), with the roster's sheet (学籍名册, or the only one) and limits;
their refusals are RosterFileErrors, in the roster's words. Only then are its rows used:
`open_roster()` lets python-calamine (Rust, fast) parse the sheet, finds the header row and yields the
rows below it. A large roster's reader process (students.roster.pipeline) parses it while the checks
run, after `peek()` (the checks that take no time) and under a memory limit; nothing it read is used,
and the process is killed, unless every check passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from core.intake import workbook
from core.intake.problems import raised_as
from core.intake.workbook import Inspection

from .columns import HEADER_KEYS, REQUIRED, SHEET_NAME, normalise_header
from .problems import FileProblem, RosterFileError

#: Rows of the roster sheet (calamine holds the sheet in memory: about 1.5 KB a row).
MAX_ROWS = workbook.MAX_ROWS
#: Rows at the top that may hold a title before the header row.
HEADER_SEARCH_ROWS = 5

__all__ = ["HEADER_SEARCH_ROWS", "MAX_ROWS", "Inspection", "RosterSheet", "inspect", "open_roster", "peek"]


@dataclass
class RosterSheet:
    """An opened roster: the header's columns and an iterator over the data rows."""

    sheet_name: str
    header_row: int  # 1-based, as Excel numbers rows
    columns: dict[str, int]  # column key → index in a row
    total: int  # data rows (blank ones included) below the header
    _sheet: Any = field(repr=False)
    _first_row: int = field(repr=False)  # the Excel row of calamine's first yielded row

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(Excel row number, cells) of each data row below the header, blank rows left out."""
        for i, cells in enumerate(self._sheet.iter_rows()):
            number = self._first_row + i
            if number <= self.header_row:
                continue
            if any(c != "" and c is not None for c in cells):
                yield number, cells


def inspect(path: str | Path) -> Inspection:
    """Every check (core.intake.workbook.inspect) on the roster's sheet; raise RosterFileError on the
    first problem."""
    with raised_as(RosterFileError):
        return workbook.inspect(path, sheet=SHEET_NAME, max_bytes=settings.MAX_UPLOAD_BYTES, max_rows=MAX_ROWS)


def peek(path: str | Path) -> Inspection:
    """The checks that take no time (the size, the magic number, the zip's directory, which sheet is the
    roster's), without reading the parts (its `rows` is 0): enough for a reader process under a memory
    limit to start parsing the sheet while `inspect` reads every part, whose verdict decides whether
    anything is imported (students.roster.pipeline)."""
    with raised_as(RosterFileError):
        return workbook.inspect(
            path, sheet=SHEET_NAME, max_bytes=settings.MAX_UPLOAD_BYTES, max_rows=MAX_ROWS, scan=False
        )


def open_roster(path: str | Path, inspection: Inspection | None = None) -> RosterSheet:
    """Inspect (unless done already), then open the roster sheet and find its header row."""
    inspection = inspection or inspect(path)
    with raised_as(RosterFileError):
        sheet = workbook.open_sheet(path, name=inspection.sheet_name)
    if sheet.empty:
        raise RosterFileError(FileProblem.MISSING_COLUMNS, columns="、".join(c.header for c in REQUIRED))
    header_row, columns = _find_header(sheet.cells, sheet.first_row)
    total = sheet.last_row - header_row
    if total <= 0:
        raise RosterFileError(FileProblem.NO_ROWS)
    return RosterSheet(
        sheet_name=inspection.sheet_name,
        header_row=header_row,
        columns=columns,
        total=total,
        _sheet=sheet.cells,
        _first_row=sheet.first_row,
    )


def _find_header(sheet: Any, first_row: int) -> tuple[int, dict[str, int]]:
    """The header row (among the first few non-empty rows, the first naming both 姓名 and 身份证号; a
    title row may sit above it) and where each known column is. Raises MISSING_COLUMNS naming the
    required columns it lacks."""
    best: tuple[int, dict[str, int]] | None = None
    seen = 0
    for i, cells in enumerate(sheet.iter_rows()):
        if not any(c != "" and c is not None for c in cells):
            if i > 100:
                break
            continue
        seen += 1
        if seen > HEADER_SEARCH_ROWS:
            break
        columns: dict[str, int] = {}
        for index, cell in enumerate(cells):
            key = HEADER_KEYS.get(normalise_header(cell)) if isinstance(cell, str) and cell else None
            if key and key not in columns:
                columns[key] = index
        if best is None or len(columns) > len(best[1]):
            best = (first_row + i, columns)
        if "name" in columns and "id_number" in columns:
            best = (first_row + i, columns)
            break
    found = best[1] if best else {}
    missing = [c.header for c in REQUIRED if c.key not in found]
    if best is None or missing:
        raise RosterFileError(FileProblem.MISSING_COLUMNS, columns="、".join(missing))
    return best
