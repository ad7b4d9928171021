"""The CSV a year of the official calendar is loaded from: one row a special day, three columns.

    date,kind,name
    2027-01-01,holiday,元旦
    2027-02-06,workday,春节

`date` as 2027-01-01 (or 2027/1/1, as spreadsheet programs write it back); `kind` holiday or workday
(also 休 / 班, 节假日 / 调休上班); `name` the festival. The header is optional, blank lines and lines
starting with # are skipped; UTF-8 (with or without BOM) or GB18030, as Excel on Chinese Windows saves.

The file is checked whole before anything is written, and every problem is reported with its line:
a bad file changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.intake import text as csv_text
from core.intake.problems import FileError

from ..models import CalendarDayKind

HEADER = ("date", "kind", "name")
#: A year has at most 366 days; a file much larger than a year's schedule is not one.
MAX_BYTES = 64 * 1024
MAX_PROBLEMS = 20

KIND_WORDS = {
    "holiday": CalendarDayKind.HOLIDAY,
    "休": CalendarDayKind.HOLIDAY,
    "节假日": CalendarDayKind.HOLIDAY,
    "放假": CalendarDayKind.HOLIDAY,
    "workday": CalendarDayKind.WORKDAY,
    "班": CalendarDayKind.WORKDAY,
    "调休上班": CalendarDayKind.WORKDAY,
    "上班": CalendarDayKind.WORKDAY,
}
_CSV_WORD = {CalendarDayKind.HOLIDAY: "holiday", CalendarDayKind.WORKDAY: "workday"}
_HEADER_WORDS = {"date", "日期"}
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
NAME_LENGTH = 50

MSG_ENCODING = _("The file is not a CSV text file (UTF-8 or GB18030).")
MSG_TOO_LARGE = _("The file is too large for one year's schedule (at most 64 KB).")
MSG_EMPTY = _("The file has no dates: one row per holiday and per adjusted working day.")
MSG_COLUMNS = _("Line %(line)s: write three columns: date, kind, name.")
MSG_DATE = _("Line %(line)s: “%(value)s” is not a date (write it as %(year)s-01-01).")
MSG_YEAR = _("Line %(line)s: %(date)s is not in %(year)s.")
MSG_KIND = _("Line %(line)s: the kind “%(value)s” is neither holiday (休) nor workday (班).")
MSG_NAME = _("Line %(line)s: give the festival's name (e.g. 春节).")
MSG_NAME_LENGTH = _("Line %(line)s: the name is longer than %(n)s characters.")
MSG_TWICE = _("Line %(line)s: %(date)s is already on line %(first)s.")
MSG_BOTH = _(
    "Line %(line)s: %(date)s is on line %(first)s as the other kind: a day cannot be both a holiday and a working day."
)
MSG_WEEKDAY = _(
    "Line %(line)s: %(date)s is a weekday, a working day anyway: only a Saturday or a Sunday can be an adjusted "
    "working day."
)


class CalendarFileError(ValidationError):
    """The file cannot be loaded; nothing was changed. One message per problem, each naming its line."""


@dataclass(frozen=True)
class CalendarRow:
    line: int
    date: dt.date
    kind: str  # CalendarDayKind
    name: str


@dataclass(frozen=True)
class CalendarFile:
    year: int
    rows: list[CalendarRow]
    sha256: str

    @property
    def holidays(self) -> int:
        return sum(1 for r in self.rows if r.kind == CalendarDayKind.HOLIDAY)

    @property
    def workdays(self) -> int:
        return sum(1 for r in self.rows if r.kind == CalendarDayKind.WORKDAY)

    def days(self) -> set[tuple[dt.date, str, str]]:
        return {(r.date, r.kind, r.name) for r in self.rows}


def _decode(data: bytes) -> str:
    """UTF-8 (with or without its byte-order mark) or GB18030, as every CSV the product reads."""
    try:
        return csv_text.decode(data)
    except FileError as exc:
        raise CalendarFileError(MSG_ENCODING) from exc


def _date(text: str) -> dt.date | None:
    match = _DATE.match(text)
    if match is None:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def read_calendar_file(data: bytes, *, year: int) -> CalendarFile:
    """The file's days for `year`, or CalendarFileError listing every problem by line."""
    if len(data) > MAX_BYTES:
        raise CalendarFileError(MSG_TOO_LARGE)
    text = _decode(data)
    problems: list[str] = []
    rows: list[CalendarRow] = []
    first_line: dict[dt.date, CalendarRow] = {}
    reader = csv.reader(io.StringIO(text))
    seen_data = False
    for cells in reader:
        line = reader.line_num
        cells = [c.strip() for c in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if not seen_data and cells[0].lower() in _HEADER_WORDS:
            seen_data = True
            continue  # the header row
        seen_data = True
        problem = _check_row(cells, line=line, year=year, first_line=first_line)
        if isinstance(problem, str):
            problems.append(problem)
        else:
            rows.append(problem)
            first_line[problem.date] = problem
        if len(problems) >= MAX_PROBLEMS:
            break
    if not rows and not problems:
        problems.append(MSG_EMPTY)
    if problems:
        raise CalendarFileError(problems)
    return CalendarFile(year=year, rows=rows, sha256=hashlib.sha256(data).hexdigest())


def _check_row(cells: list[str], *, line: int, year: int, first_line: dict[dt.date, CalendarRow]) -> CalendarRow | str:
    """The row, or the message saying what is wrong with it."""
    if len(cells) < 3 or any(cells[3:]):
        return MSG_COLUMNS % {"line": line}
    date_text, kind_text, name = cells[:3]
    date = _date(date_text)
    if date is None:
        return MSG_DATE % {"line": line, "value": date_text, "year": year}
    if date.year != year:
        return MSG_YEAR % {"line": line, "date": date, "year": year}
    kind = KIND_WORDS.get(kind_text.lower())
    if kind is None:
        return MSG_KIND % {"line": line, "value": kind_text}
    if not name:
        return MSG_NAME % {"line": line}
    if len(name) > NAME_LENGTH:
        return MSG_NAME_LENGTH % {"line": line, "n": NAME_LENGTH}
    earlier = first_line.get(date)
    if earlier is not None:
        message = MSG_BOTH if earlier.kind != kind else MSG_TWICE
        return message % {"line": line, "date": date, "first": earlier.line}
    if kind == CalendarDayKind.WORKDAY and date.weekday() < 5:
        # A make-up working day is always a Saturday or a Sunday: a weekday here is a swapped column.
        return MSG_WEEKDAY % {"line": line, "date": date}
    return CalendarRow(line=line, date=date, kind=kind, name=name)


def write_calendar_file(days: Iterable[tuple[dt.date, str, str]]) -> bytes:
    """(date, kind, name) rows as the file that loads them again, in date order (UTF-8, no BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for date, kind, name in sorted(days):
        writer.writerow([date.isoformat(), _CSV_WORD[kind], name])
    return out.getvalue().encode()


def template_file(year: int) -> bytes:
    """An empty year to fill in, with two example rows commented out (UTF-8 with BOM, so Excel opens it)."""
    lines = [
        f"# {year}年法定节假日安排：每行一个日期。kind 填 holiday（休）或 workday（调休上班）。以 # 开头的行不导入。",
        ",".join(HEADER),
        "# 例：2026-10-01,holiday,国庆节",
        "# 例：2026-10-10,workday,国庆节",
    ]
    return ("\ufeff" + "\n".join(lines) + "\n").encode()
