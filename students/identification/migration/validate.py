"""Reading the identified list and checking its rows, before anything is written.

The file is opened with the kernel's safe intake (core.intake.workbook: size, magic number, zip bombs,
XML declarations, formulas, row count); its refusals are MigrationFileErrors. Each row is then checked
in Python against what the tenant has, read once, set-based: the classes, the categories, the pupils
named by the file (by the blind index of their ID numbers, in chunks) and their live applications of
the year. A row is IMPORTABLE, UNCHANGED (an earlier import of this list brought it in already),
EXISTING (the pupil has a live application of the year: reported, never duplicated) or REJECTED.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.crypto import blind_index
from core.intake import workbook
from core.intake.problems import FileError, FileProblem, raised_as
from schools.models import SchoolClass
from students import idcard
from students.models import HardshipApplication, HardshipCategory, Student
from students.models.identification import LIVE_STATES
from students.roster.columns import STAGES

from .columns import DATE_COLUMNS, HEADER_KEYS, REQUIRED, SHEET_NAME, TIERS, normalise_header

HEADER_SEARCH_ROWS = 5
#: Pupils looked up per query (an IN list of blind indexes).
LOOKUP_CHUNK = 5000

IMPORTABLE, UNCHANGED, EXISTING, REJECTED = "IMPORTED", "UNCHANGED", "EXISTING", "REJECTED"

FILE_MESSAGES = {
    FileProblem.WRONG_SHEET: _(
        "The workbook has no sheet named “%(expected)s” (sheets found: %(found)s). Use the template's sheet."
    ),
    FileProblem.MISSING_COLUMNS: _(
        "These required columns are missing: %(columns)s. Use the header row of the template."
    ),
    FileProblem.NO_ROWS: _("The sheet has no pupils below its header row."),
}


class MigrationFileError(FileError):
    """The identified list cannot be used at all (nothing is imported)."""

    messages = FILE_MESSAGES


# Row problems: stable codes (the report names them) and what to do about each.
ROW_MESSAGES = {
    "NAME_EMPTY": _("The name is empty."),
    "NAME_MISMATCH": _("The name differs from the register's (%(registered)s): check the ID number."),
    "UNKNOWN_PUPIL": _("No pupil with this ID number is on the district's register: import the roster first."),
    "UNKNOWN_CLASS": _("No such class: school %(school)s, %(stage)s, entry year %(year)s, class %(number)s."),
    "UNKNOWN_TIER": _("Unknown tier “%(value)s”: write 一般困难, 困难 or 特别困难."),
    "UNKNOWN_CATEGORY": _("Unknown hardship category: %(values)s."),
    "DATE_INVALID": _("%(column)s is not a date (write it as 2025-10-20)."),
    "DATE_MISSING": _("%(column)s is required."),
    "DATE_FUTURE": _("%(column)s lies in the future."),
    "DATE_ORDER": _("The dates are out of order: application, class evaluation, school review, identification."),
    "DATE_OUTSIDE_YEAR": _("The identification date does not fall in the %(year)s–%(next)s academic year."),
    "DUPLICATE_IN_FILE": _("This ID number is already on row %(row)s of the file."),
}
NOTE_UNCHANGED = _("Already imported from this list; nothing changed.")
NOTE_EXISTING = _("This pupil already has an application for this academic year (%(status)s); not imported again.")

_SEPARATORS = re.compile(r"[、,，;；/\s]+")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


@dataclass
class RowProblem:
    code: str
    message: str


@dataclass
class Row:
    """One data row: what the file says, what was found, and what will happen to it."""

    row: int
    name: str = ""
    id_text: str = ""
    outcome: str = IMPORTABLE
    errors: list[RowProblem] = field(default_factory=list)
    note: str = ""
    # Resolved values (an importable row only)
    id_hash: str = ""
    student_id: Any = None
    school_id: Any = None
    grade_id: Any = None
    klass_id: Any = None
    tier: str = ""
    categories: list[str] = field(default_factory=list)
    family_situation: str = ""
    dates: dict[str, dt.date | None] = field(default_factory=dict)

    def reject(self, code: str, **params: Any) -> None:
        self.outcome = REJECTED
        self.errors.append(RowProblem(code, str(ROW_MESSAGES[code]) % params if params else str(ROW_MESSAGES[code])))


# --- The file -------------------------------------------------------------------------------------------


def inspect(path: str | Path) -> workbook.Inspection:
    """Every check of the kernel's intake on the list's sheet; MigrationFileError on the first problem."""
    with raised_as(MigrationFileError):
        return workbook.inspect(path, sheet=SHEET_NAME, max_bytes=settings.MAX_UPLOAD_BYTES)


def read_rows(path: str | Path) -> tuple[int, Iterator[tuple[int, dict[str, Any]]]]:
    """(data rows, an iterator of (Excel row, {column key: cell})) of a checked file."""
    inspection = inspect(path)
    with raised_as(MigrationFileError):
        sheet = workbook.open_sheet(path, name=inspection.sheet_name)
    if sheet.empty:
        raise MigrationFileError(FileProblem.MISSING_COLUMNS, columns="、".join(c.header for c in REQUIRED))
    header_row, columns = _find_header(sheet)
    total = sheet.last_row - header_row
    if total <= 0:
        raise MigrationFileError(FileProblem.NO_ROWS)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for number, cells in sheet.rows():
            if number <= header_row or not any(c != "" and c is not None for c in cells):
                continue
            yield number, {key: cells[i] if i < len(cells) else "" for key, i in columns.items()}

    return total, rows()


def _find_header(sheet: workbook.Sheet) -> tuple[int, dict[str, int]]:
    """The first of the top non-empty rows naming 姓名 and 身份证号 (a title may sit above it)."""
    best: tuple[int, dict[str, int]] = (0, {})
    seen = 0
    for number, cells in sheet.rows():
        if not any(c != "" and c is not None for c in cells):
            continue
        seen += 1
        if seen > HEADER_SEARCH_ROWS:
            break
        columns: dict[str, int] = {}
        for index, cell in enumerate(cells):
            key = HEADER_KEYS.get(normalise_header(cell)) if isinstance(cell, str) and cell else None
            if key and key not in columns:
                columns[key] = index
        if len(columns) > len(best[1]):
            best = (number, columns)
        if "name" in columns and "id_number" in columns:
            best = (number, columns)
            break
    missing = [c.header for c in REQUIRED if c.key not in best[1]]
    if missing:
        raise MigrationFileError(FileProblem.MISSING_COLUMNS, columns="、".join(missing))
    return best


# --- The rows -------------------------------------------------------------------------------------------


def text(value: Any) -> str:
    """A cell as text: a whole number without its ".0", anything else as written."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_date(value: Any) -> dt.date | None:
    """A date cell (Excel's, or text in the usual ways); None if empty; ValueError if not a date."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 20000 < value < 80000:
        return _EXCEL_EPOCH + dt.timedelta(days=int(value))  # a date cell without a date format
    written = text(value)
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(written, fmt).date()  # noqa: DTZ007  a calendar date
        except ValueError:
            continue
    raise ValueError(written)


@dataclass
class Context:
    """What the rows are checked against, read once per import (inside the tenant's transaction)."""

    academic_year: int
    today: dt.date
    classes: dict[tuple[str, str, int, int], tuple[Any, Any, Any]]
    categories: dict[str, str]  # code or name → code

    @classmethod
    def load(cls, *, academic_year: int, today: dt.date) -> Context:
        classes = {
            (code, stage, year, number): (school_id, grade_id, pk)
            for pk, school_id, grade_id, number, stage, year, code in SchoolClass.objects.values_list(
                "pk", "school_id", "grade_id", "number", "grade__stage", "grade__entry_year", "school__code"
            )
        }
        categories: dict[str, str] = {}
        for code, name in HardshipCategory.objects.filter(is_active=True).values_list("code", "name"):
            categories[name] = code
            categories[code] = code
        return cls(academic_year=academic_year, today=today, classes=classes, categories=categories)


def check_cells(number: int, cells: dict[str, Any], ctx: Context) -> Row:
    """The checks of one row that need no pupil lookup."""
    row = Row(row=number, name=text(cells.get("name")), id_text=text(cells.get("id_number")))
    if not row.name:
        row.reject("NAME_EMPTY")
    try:
        row.id_hash = blind_index(idcard.parse(row.id_text, today=ctx.today).number, kind="id_number")
    except idcard.InvalidIdNumber as exc:
        row.outcome = REJECTED
        row.errors.append(RowProblem(exc.problem.value, str(exc)))
    school, stage_word = text(cells.get("school_code")), text(cells.get("stage"))
    year, klass = text(cells.get("entry_year")), text(cells.get("class_number"))
    found = None
    if year.isdigit() and klass.isdigit():
        found = ctx.classes.get((school, STAGES.get(stage_word, ""), int(year), int(klass)))
    if found is None:
        row.reject(
            "UNKNOWN_CLASS", school=school or "—", stage=stage_word or "—", year=year or "—", number=klass or "—"
        )
    else:
        row.school_id, row.grade_id, row.klass_id = found
    tier_word = text(cells.get("tier"))
    row.tier = TIERS.get(tier_word, "")
    if not row.tier:
        row.reject("UNKNOWN_TIER", value=tier_word)
    words = [w for w in _SEPARATORS.split(text(cells.get("categories"))) if w]
    unknown = [w for w in words if w not in ctx.categories]
    if unknown:
        row.reject("UNKNOWN_CATEGORY", values="、".join(unknown))
    row.categories = list(dict.fromkeys(ctx.categories[w] for w in words if w in ctx.categories))
    row.family_situation = text(cells.get("family_situation"))[:2000]
    _check_dates(row, cells, ctx)
    return row


def _check_dates(row: Row, cells: dict[str, Any], ctx: Context) -> None:
    for column in DATE_COLUMNS:
        try:
            row.dates[column.key] = parse_date(cells.get(column.key))
        except ValueError:
            row.reject("DATE_INVALID", column=column.header)
            row.dates[column.key] = None
            continue
        if row.dates[column.key] and row.dates[column.key] > ctx.today:
            row.reject("DATE_FUTURE", column=column.header)
    identified = row.dates.get("identified_on")
    if identified is None:
        if not any(e.code == "DATE_INVALID" for e in row.errors):
            row.reject("DATE_MISSING", column="认定日期")
        return
    given = [row.dates[c.key] for c in DATE_COLUMNS if row.dates.get(c.key)]
    if given != sorted(given):
        row.reject("DATE_ORDER")
    # The academic year Y runs from September Y; its identification happens in its autumn, and a late
    # one (a pupil who arrived mid-year) before its summer: January Y to August Y+1 covers both.
    year = ctx.academic_year
    if not dt.date(year, 1, 1) <= identified <= dt.date(year + 1, 8, 31):
        row.reject("DATE_OUTSIDE_YEAR", year=year, next=year + 1)


def resolve(rows: list[Row], ctx: Context) -> None:
    """The checks that need the register and the year's applications, for a chunk of rows: the pupil
    by their ID number's blind index, the name against the register's, a live application of the year
    (EXISTING, or UNCHANGED when an earlier import of the same values brought it in). Two queries."""
    hashes = [r.id_hash for r in rows if r.id_hash]
    pupils = {
        h: (pk, name)
        for pk, name, h in Student.objects.filter(id_number_hash__in=hashes).values_list("pk", "name", "id_number_hash")
    }
    live = {
        student_id: (status, migrated, tier, sorted(categories or []))
        for student_id, status, migrated, tier, categories in HardshipApplication.objects.filter(
            academic_year=ctx.academic_year,
            status__in=LIVE_STATES,
            student_id__in=[p[0] for p in pupils.values()],
        ).values_list("student_id", "status", "migrated", "tier", "categories")
    }
    labels = dict(HardshipApplication._meta.get_field("status").flatchoices)
    for row in rows:
        if not row.id_hash:
            continue
        found = pupils.get(row.id_hash)
        if found is None:
            row.reject("UNKNOWN_PUPIL")
            continue
        row.student_id, registered = found
        if row.name and "".join(row.name.split()) != "".join(registered.split()):
            row.reject("NAME_MISMATCH", registered=registered)
        if row.outcome == REJECTED or row.student_id not in live:
            continue
        status, migrated, tier, categories = live[row.student_id]
        if migrated and tier == row.tier and categories == sorted(row.categories):
            row.outcome, row.note = UNCHANGED, str(NOTE_UNCHANGED)
        else:
            row.outcome, row.note = EXISTING, str(NOTE_EXISTING) % {"status": labels.get(status, status)}


def checked_rows(cells: Iterable[tuple[int, dict[str, Any]]], ctx: Context) -> Iterator[list[Row]]:
    """Every row checked, in chunks of LOOKUP_CHUNK; a pupil named twice in the file is rejected the
    second time (the first row stands)."""
    seen: dict[str, int] = {}
    chunk: list[Row] = []
    for number, values in cells:
        row = check_cells(number, values, ctx)
        if row.id_hash:
            if row.id_hash in seen:
                row.reject("DUPLICATE_IN_FILE", row=seen[row.id_hash])
                row.id_hash = ""
            else:
                seen[row.id_hash] = number
        chunk.append(row)
        if len(chunk) >= LOOKUP_CHUNK:
            resolve(chunk, ctx)
            yield chunk
            chunk = []
    if chunk:
        resolve(chunk, ctx)
        yield chunk
