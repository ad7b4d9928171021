"""Row validation: the cells of one roster row → a clean row ready to write, or the row's errors.

Everything here is pure Python over one row at a time (plus the lookups prepared once per import in a
`RosterContext`), so the import can validate 100,000 rows in constant memory. What needs the database
(is the pupil already registered, and where) is decided per chunk by `apply`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core.crypto import blind_index, keyed_hash

from .. import idcard
from .columns import BY_KEY, GENDER_WORDS, GENDERS, HUKOU, RELATIONS, STAGES, STATUSES, YES_NO
from .problems import (
    HINT_ACCOUNT,
    HINT_CLASS,
    HINT_DATE,
    HINT_PHONE,
    HINT_STUDENT_NO,
    HINT_TOO_LONG,
    HINT_YEAR,
    RowCode,
    RowError,
    id_error,
    row_error,
)

#: Changing how rows are normalised changes every fingerprint: bump this so that every row is compared
#: afresh once, instead of some rows looking unchanged under the old rules.
FINGERPRINT_VERSION = "roster-v1"

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_CLASS = re.compile(r"^[(（]?0*(\d{1,3})[)）]?班?$")
_YEAR = re.compile(r"^(\d{4})(?:年|级|年级)?$")
_DIGITS = re.compile(r"^\d+$")
_PHONE = re.compile(r"^\+?\d[\d-]{5,19}$")
_STUDENT_NO = re.compile(r"^[0-9A-Z]{1,30}$")
# 2015-06-15, 2015/6/15, 2015.06.15, 2015年6月15日, 20150615
_DATE = re.compile(r"^(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_NUMBER_LIMIT = 10**15  # Excel keeps 15 significant digits
#: What a number cell holds (a tuple: `int | float` would build a union type at every call).
_NUMBERS = (int, float)


@dataclass(slots=True)
class GuardianRow:
    """One guardian block of a row. None means "not given: keep what the register holds"."""

    position: int
    name: str
    relation: str
    id_number: str | None
    phone: str | None


@dataclass(slots=True)
class CleanRow:
    """A valid row. For optional fields None means "left blank: keep what the register holds"."""

    row: int
    school_id: uuid.UUID
    grade_id: uuid.UUID
    klass_id: uuid.UUID
    name: str
    id_number: str
    id_hash: str
    student_no: str | None
    gender: str
    birth_date: dt.date
    status: str
    is_boarding: bool | None
    hukou: str
    township: str | None
    village: str | None
    phone: str | None
    card_bank: str | None
    card_account: str | None
    card_holder: str | None
    guardians: tuple[GuardianRow, ...]
    fingerprint: str


@dataclass
class RosterContext:
    """What validation needs to know about the tenant, loaded once per import."""

    #: school code → (school id, school name), active schools of the tenant
    schools: dict[str, tuple[uuid.UUID, str]]
    #: (school id, stage, entry year, class number) → (grade id, class id)
    classes: dict[tuple[uuid.UUID, str, int, int], tuple[uuid.UUID, uuid.UUID]]
    #: schools the importer may import into; None: every school of the tenant
    importable: frozenset[uuid.UUID] | None
    today: dt.date = field(default_factory=dt.date.today)
    #: ID number → rows, and registration number → rows, for numbers found more than once in the file
    duplicate_ids: dict[str, list[int]] = field(default_factory=dict)
    duplicate_nos: dict[str, list[int]] = field(default_factory=dict)


@dataclass(slots=True)
class RowReport:
    """What the report says about one row."""

    row: int
    name: str
    id_text: str  # as given (masked when written)
    errors: list[RowError]
    clean: CleanRow | None = None
    outcome: str = ""
    note: str = ""
    #: a valid row's pupil prepared as new, ahead of the write (apply.NewPupil; see pipeline)
    prepared: Any = None


# --- Cells ---------------------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as text: stripped, invisible characters removed; whole numbers without ".0"."""
    if type(value) is str:
        # isprintable() is False for zero-width spaces, tabs and line breaks: only then translate.
        return value.strip() if value.isprintable() else value.translate(_INVISIBLE).strip()
    if value is None:
        return ""
    if isinstance(value, str):
        return value.translate(_INVISIBLE).strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def number_text(value: Any) -> str:
    """An ID, account or phone number cell as text (full-width digits folded, spaces dropped).
    Raises ValueError for a number Excel has rounded (more than 15 digits)."""
    if value.__class__ is str and value.isalnum() and value.isascii():
        return value.upper()  # the common case, typed as text: nothing to strip, fold or drop
    if isinstance(value, _NUMBERS) and not isinstance(value, bool):
        if abs(value) >= _NUMBER_LIMIT or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        return str(int(value))
    text = cell_text(value)
    if text.isascii():
        return text.replace(" ", "").upper() if " " in text else text.upper()
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def prescan_key(value: Any) -> str:
    """The form in which duplicates are looked for (as number_text, never raising)."""
    try:
        return number_text(value)
    except ValueError:
        return ""


def fingerprint(values: Iterable[object]) -> str:
    """A keyed hash of a normalised row: equal rows, equal fingerprints; nothing readable from it."""
    payload = "\x1f".join(["" if v is None else str(v) for v in (FINGERPRINT_VERSION, *values)])
    return keyed_hash(payload, kind="roster_row")


# --- Rows ----------------------------------------------------------------------------------------------


class _Row:
    """The cells of one row, read by column key, collecting errors as it goes."""

    __slots__ = ("cells", "errors", "failed")

    def __init__(self, cells: list[Any], columns: dict[str, int]) -> None:
        n = len(cells)
        self.cells = {key: cells[index] for key, index in columns.items() if index < n}
        self.errors: list[RowError] = []
        self.failed: set[str] = set()  # keys of the columns an error was recorded for

    def error(self, key: str, code: RowCode, **params: Any) -> None:
        self.failed.add(key)
        self.errors.append(row_error(code, column=BY_KEY[key].header, **params))

    def raw(self, key: str) -> Any:
        return self.cells.get(key, "")

    def text(self, key: str, *, max_length: int = 50) -> str:
        value = cell_text(self.cells.get(key, ""))
        if len(value) > max_length:
            self.bad(key, HINT_TOO_LONG % {"n": max_length})
            return ""
        return value

    def required(self, key: str, **kwargs: Any) -> str:
        value = self.text(key, **kwargs)
        if not value and key not in self.failed:
            self.error(key, RowCode.MISSING_VALUE)
        return value

    def number(self, key: str) -> str:
        try:
            return number_text(self.cells.get(key, ""))
        except ValueError:
            self.error(key, RowCode.NUMBER_LOST_DIGITS)
            return ""

    def choice(self, key: str, words: dict[str, Any], text: str) -> Any:
        if text in words:
            return words[text]
        self.error(key, RowCode.BAD_CHOICE, choices="、".join(BY_KEY[key].choices))
        return None

    def bad(self, key: str, hint: object) -> None:
        self.error(key, RowCode.BAD_VALUE, hint=hint)


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, _NUMBERS) and not isinstance(value, bool):
        # An Excel date serial in a cell without date format.
        return _EXCEL_EPOCH + dt.timedelta(days=int(value)) if 1 <= value < 80000 else None
    match = _DATE.match(cell_text(value))
    if match is None:
        return None
    year, month, day, compact_month, compact_day = match.groups()
    try:
        return dt.date(int(year), int(month or compact_month), int(day or compact_day))
    except ValueError:
        return None


def validate_row(number: int, cells: list[Any], columns: dict[str, int], ctx: RosterContext) -> RowReport:
    """Check one row against the layout and the tenant's schools and classes; every problem found is
    reported (not only the first), so a teacher can fix a row in one go."""
    r = _Row(cells, columns)
    name = r.required("name")
    id_raw = r.raw("id_number")
    report = RowReport(
        row=number, name=name or cell_text(r.raw("name"))[:50], id_text=cell_text(id_raw), errors=r.errors
    )

    # Where: school, stage, grade, class.
    school_code = r.required("school_code", max_length=20)
    stage_text = r.required("stage")
    stage = r.choice("stage", STAGES, stage_text) if stage_text else None
    year_text = r.required("entry_year")
    year_match = _YEAR.match(year_text) if year_text else None
    if year_text and not year_match:
        r.bad("entry_year", HINT_YEAR)
    class_text = r.required("class_number")
    class_match = _CLASS.match(class_text) if class_text else None
    if class_text and not class_match:
        r.bad("class_number", HINT_CLASS)
    school = ctx.schools.get(school_code) if school_code else None
    place = None
    if school_code and school is None:
        r.errors.append(row_error(RowCode.UNKNOWN_SCHOOL, code=school_code))
    elif school is not None:
        school_id, school_name = school
        if ctx.importable is not None and school_id not in ctx.importable:
            r.errors.append(row_error(RowCode.NOT_YOUR_SCHOOL, school=school_name))
        elif stage and year_match and class_match:
            year, klass = int(year_match.group(1)), int(class_match.group(1))
            place = ctx.classes.get((school_id, stage, year, klass))
            if place is None:
                r.errors.append(
                    row_error(RowCode.UNKNOWN_CLASS, school=school_name, stage=stage_text, year=year, number=klass)
                )

    # Who: the ID number, and what it says about birth date and sex.
    parsed = None
    id_number = r.number("id_number")
    if isinstance(id_raw, _NUMBERS) and not isinstance(id_raw, bool):
        report.id_text = cell_text(id_raw)
    if not id_number:
        if "id_number" not in r.failed:
            r.error("id_number", RowCode.MISSING_VALUE)
    else:
        try:
            parsed = idcard.parse(id_number, today=ctx.today)
        except idcard.InvalidIdNumber as exc:
            r.errors.append(id_error(exc.problem))
    if parsed is not None and parsed.number in ctx.duplicate_ids:
        rows = "、".join(map(str, ctx.duplicate_ids[parsed.number]))
        r.error("id_number", RowCode.DUPLICATE_IN_FILE, rows=rows)

    student_no = r.number("student_no") or None
    if student_no and not _STUDENT_NO.match(student_no):
        r.bad("student_no", HINT_STUDENT_NO)
        student_no = None
    elif student_no and student_no in ctx.duplicate_nos and "id_number" not in r.failed:
        rows = "、".join(map(str, ctx.duplicate_nos[student_no]))
        r.error("student_no", RowCode.DUPLICATE_IN_FILE, rows=rows)

    gender_text = r.text("gender")
    gender = r.choice("gender", GENDERS, gender_text) if gender_text else None
    if parsed is not None and gender is not None and gender != parsed.sex.value:
        expected = GENDER_WORDS[parsed.sex.value]
        r.errors.append(row_error(RowCode.SEX_MISMATCH, given=gender_text, expected=expected))

    birth_raw = r.raw("birth_date")
    birth = None
    if cell_text(birth_raw):
        birth = _parse_date(birth_raw)
        if birth is None:
            r.bad("birth_date", HINT_DATE)
        elif parsed is not None and birth != parsed.birth_date:
            r.errors.append(
                row_error(RowCode.BIRTH_MISMATCH, given=birth.isoformat(), expected=parsed.birth_date.isoformat())
            )

    # What: status, boarding, household registration, address, contact, funding card.
    status_text = r.required("status")
    status = r.choice("status", STATUSES, status_text) if status_text else None
    boarding_text = r.text("boarding")
    boarding = r.choice("boarding", YES_NO, boarding_text) if boarding_text else None
    hukou_text = r.required("hukou")
    hukou = r.choice("hukou", HUKOU, hukou_text) if hukou_text else None
    township = r.text("township") or None
    village = r.text("village") or None
    phone = _phone(r, "phone")
    card_bank = r.text("card_bank") or None
    card_account = r.number("card_account") or None
    if card_account and not (_DIGITS.match(card_account) and 6 <= len(card_account) <= 30):
        r.bad("card_account", HINT_ACCOUNT)
    card_holder = r.text("card_holder") or None

    guardians = tuple(g for g in (_guardian(r, 1, ctx), _guardian(r, 2, ctx)) if g is not None)

    if r.errors or parsed is None or place is None or school is None or status is None or hukou is None:
        return report
    values = (
        school_code, stage, int(year_match.group(1)), int(class_match.group(1)),  # type: ignore[union-attr]
        name, parsed.number, student_no, parsed.sex.value, parsed.birth_date, status, boarding, hukou,
        township, village, phone,
        *[v for g in guardians for v in (g.position, g.name, g.relation, g.id_number, g.phone)],
        card_bank, card_account, card_holder,
    )  # fmt: skip
    report.clean = CleanRow(
        row=number,
        school_id=school[0],
        grade_id=place[0],
        klass_id=place[1],
        name=name,
        id_number=parsed.number,
        id_hash=blind_index(parsed.number, kind="id_number"),
        student_no=student_no,
        gender=parsed.sex.value,
        birth_date=parsed.birth_date,
        status=status,
        is_boarding=boarding,
        hukou=hukou,
        township=township,
        village=village,
        phone=phone,
        card_bank=card_bank,
        card_account=card_account,
        card_holder=card_holder,
        guardians=guardians,
        fingerprint=fingerprint(values),
    )
    return report


def _phone(r: _Row, key: str) -> str | None:
    phone = r.number(key)
    if phone and not _PHONE.match(phone):
        r.bad(key, HINT_PHONE)
        return None
    return phone or None


def _guardian(r: _Row, position: int, ctx: RosterContext) -> GuardianRow | None:
    prefix = f"g{position}_"
    name = r.text(prefix + "name")
    relation_text = r.text(prefix + "relation")
    id_raw = r.raw(prefix + "id_number")
    phone_raw = r.raw(prefix + "phone")
    if not (name or relation_text or cell_text(id_raw) or cell_text(phone_raw)):
        return None
    if not name and prefix + "name" not in r.failed:
        r.error(prefix + "name", RowCode.MISSING_VALUE)
    relation = None
    if not relation_text:
        r.error(prefix + "relation", RowCode.MISSING_VALUE)
    else:
        relation = r.choice(prefix + "relation", RELATIONS, relation_text)
    id_number = r.number(prefix + "id_number") or None
    if id_number:
        try:
            id_number = idcard.parse(id_number, today=ctx.today).number
        except idcard.InvalidIdNumber as exc:
            r.error(prefix + "id_number", RowCode.GUARDIAN_ID_INVALID, problem=idcard.PROBLEM_MESSAGES[exc.problem])
            id_number = None
    phone = _phone(r, prefix + "phone")
    if not name or relation is None:
        return None
    return GuardianRow(position=position, name=name, relation=relation, id_number=id_number, phone=phone)
