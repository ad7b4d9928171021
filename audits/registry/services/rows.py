"""A registry's rows checked one by one: what makes a row unusable (stable codes, messages), and the
loop that validates the rows and hands the valid ones, a chunk at a time, to the writer."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from students import idcard

from ...models import RegistrySnapshot
from ..fields import normalise_header
from .entries import EntryWriter

#: Rows validated and written per round (progress is reported between rounds).
CHUNK = 50_000


class RowCode(StrEnum):
    NAME_EMPTY = "NAME_EMPTY"
    ID_AS_NUMBER = "ID_AS_NUMBER"
    HOUSEHOLD_ID_INVALID = "HOUSEHOLD_ID_INVALID"
    CATEGORY_UNKNOWN = "CATEGORY_UNKNOWN"
    DUPLICATE = "DUPLICATE"


ROW_MESSAGES: dict[str, Any] = {
    RowCode.NAME_EMPTY: _("The name is empty."),
    RowCode.ID_AS_NUMBER: _(
        "The ID number is stored as a number, so Excel dropped its last digits: format the column as text."
    ),
    RowCode.HOUSEHOLD_ID_INVALID: _("The household head's ID number is not valid."),
    RowCode.CATEGORY_UNKNOWN: _("The category “%(value)s” is not one of the district's hardship categories."),
    RowCode.DUPLICATE: _("The same person and category appear earlier in the file (row %(first)s)."),
    **{p.value: m for p, m in idcard.PROBLEM_MESSAGES.items()},
}


@dataclass
class RowProblem:
    row: int
    code: str
    message: str


Progress = Callable[[int, int], None]


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if cell.__class__ is str:
        return cell.strip()
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()


#: The shape idcard.parse accepts, in ASCII digits only (anything else takes the slow path).
_ID_ASCII = re.compile(r"[0-9]{17}[0-9X]")


def _id_number(text: str, today: dt.date) -> str:
    """idcard.parse(text).number, a million times: a valid number is checked here by the same rules
    (normalised, 18 characters, a province, a real birth date, the check character) without building
    the parsed value; anything else goes to idcard.parse, which raises with the problem found."""
    number = "".join(text.split()).upper()
    if (
        len(number) == 18
        and _ID_ASCII.fullmatch(number)
        and number[0] in "12345678"
        and number[2:6] != "0000"
        and idcard.check_character(number[:17]) == number[17]
    ):
        try:
            birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            birth = None
        if birth is not None and birth.year >= 1900 and birth <= today:
            return number
    return idcard.parse(text, today=today).number


def load(
    snapshot: RegistrySnapshot,
    opened: Any,
    at: dict[str, int],
    categories: dict[str, str],
    default_category: str,
    progress: Progress | None,
) -> list[RowProblem]:
    """Validate, encrypt and write the rows, CHUNK at a time; return the rejected ones."""
    rejected: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    writer = EntryWriter(snapshot)
    i_name, i_id = at["name"], at["id_number"]
    i_household, i_category = at.get("household_id_number"), at.get("category")
    i_township, i_village = at.get("township"), at.get("village")
    category_of: dict[str, str | None] = {}  # cell text → code (normalise_header once per distinct text)
    today = dt.date.today()  # noqa: DTZ011  a calendar date, as idcard.parse uses
    text = _text
    chunk: list[tuple[Any, ...]] = []
    done = 0

    def cell(cells: list[Any], i: int | None) -> Any:
        return cells[i] if i is not None and i < len(cells) else None

    def reject(row: int, code: str, **params: Any) -> None:
        rejected.append(
            RowProblem(row, str(code), str(ROW_MESSAGES[code]) % params if params else str(ROW_MESSAGES[code]))
        )

    try:
        for number, cells in opened.rows():
            done += 1
            name = text(cell(cells, i_name))
            if not name:
                if not any(c not in (None, "") for c in cells):
                    continue  # a blank line
                reject(number, RowCode.NAME_EMPTY)
                continue
            raw_id = cell(cells, i_id)
            if isinstance(raw_id, int | float):
                reject(number, RowCode.ID_AS_NUMBER)
                continue
            try:
                person = _id_number(text(raw_id), today)
            except idcard.InvalidIdNumber as exc:
                reject(number, exc.problem.value)
                continue
            household = text(cell(cells, i_household)) if i_household is not None else ""
            if household:
                try:
                    household = _id_number(household, today)
                except idcard.InvalidIdNumber:
                    reject(number, RowCode.HOUSEHOLD_ID_INVALID)
                    continue
            category_text = text(cell(cells, i_category)) if i_category is not None else ""
            if category_text:
                try:
                    category = category_of[category_text]
                except KeyError:
                    category = category_of[category_text] = categories.get(normalise_header(category_text))
            else:
                category = default_category
            if not category:
                reject(number, RowCode.CATEGORY_UNKNOWN, value=category_text)
                continue
            key = (person, category)
            first = seen.setdefault(key, number)
            if first != number:
                reject(number, RowCode.DUPLICATE, first=first)
                continue
            township = text(cell(cells, i_township))[:50] if i_township is not None else ""
            village = text(cell(cells, i_village))[:50] if i_village is not None else ""
            chunk.append((number, name[:50], person, household, category, township, village))
            if len(chunk) >= CHUNK:
                writer.write(chunk)
                chunk = []
                if progress:
                    progress(done, opened.total)
        if chunk:
            writer.write(chunk)
    finally:
        writer.close()
    if progress:
        progress(opened.total, opened.total)
    return rejected
