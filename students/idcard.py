"""居民身份证号码: the 18-character national ID number as GB 11643-1999 defines it.

Layout: 6-digit administrative region code, 8-digit birth date (YYYYMMDD), 3-digit sequence (odd for
men, even for women), and a check character computed by ISO 7064 MOD 11-2 (0-9 or X).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from operator import mul

from django.utils.translation import gettext_lazy as _

_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, ...
_CHECK = "10X98765432"
_ASCII_OFFSET = ord("0") * sum(_WEIGHTS)
_SHAPE = re.compile(r"^\d{17}[\dX]$")
# First digit of the region code: 1-6 are the provinces' regions, 7 Taiwan, 8 Hong Kong/Macao and
# residence permits (83); 0 and 9 do not occur.
_PROVINCE_FIRST = set("12345678")


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"


class IdProblem(StrEnum):
    """Why a number is not a valid ID number; the values are stable codes for reports."""

    EMPTY = "ID_EMPTY"
    LENGTH = "ID_LENGTH"
    CHARACTERS = "ID_CHARACTERS"
    REGION = "ID_REGION"
    BIRTH_DATE = "ID_BIRTH_DATE"
    CHECK_DIGIT = "ID_CHECK_DIGIT"


PROBLEM_MESSAGES = {
    IdProblem.EMPTY: _("The ID number is empty."),
    IdProblem.LENGTH: _("An ID number has 18 characters."),
    IdProblem.CHARACTERS: _("An ID number is 17 digits followed by a digit or X."),
    IdProblem.REGION: _("The region code at the start of the ID number does not exist."),
    IdProblem.BIRTH_DATE: _("The birth date inside the ID number is not a real date."),
    IdProblem.CHECK_DIGIT: _("The last character (check digit) does not match: the number has a typo."),
}


class InvalidIdNumber(ValueError):
    def __init__(self, problem: IdProblem) -> None:
        self.problem = problem
        super().__init__(str(PROBLEM_MESSAGES[problem]))


@dataclass(frozen=True)
class IdNumber:
    number: str
    region_code: str
    birth_date: dt.date
    sex: Sex


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) == 17 and first17.isascii():
        # An import checks hundreds of thousands: the digits' bytes summed at C speed, less '0' × weights.
        return _CHECK[(sum(map(mul, first17.encode(), _WEIGHTS)) - _ASCII_OFFSET) % 11]
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def parse(text: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate an ID number and decode it; raises InvalidIdNumber with the first problem found."""
    number = "".join((text or "").split()).upper()
    if not number:
        raise InvalidIdNumber(IdProblem.EMPTY)
    if len(number) != 18:
        raise InvalidIdNumber(IdProblem.LENGTH)
    if not _SHAPE.match(number):
        raise InvalidIdNumber(IdProblem.CHARACTERS)
    if number[0] not in _PROVINCE_FIRST or number[2:6] == "0000":
        raise InvalidIdNumber(IdProblem.REGION)
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(IdProblem.BIRTH_DATE) from None
    today = today or dt.date.today()  # noqa: DTZ011  a calendar date, not an instant
    if birth.year < 1900 or birth > today:
        raise InvalidIdNumber(IdProblem.BIRTH_DATE)
    if check_character(number[:17]) != number[17]:
        raise InvalidIdNumber(IdProblem.CHECK_DIGIT)
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return IdNumber(number=number, region_code=number[:6], birth_date=birth, sex=sex)


def is_valid(text: str) -> bool:
    try:
        parse(text)
    except InvalidIdNumber:
        return False
    return True


def compose(region_code: str, birth_date: dt.date, sequence: int, sex: Sex) -> str:
    """Build a valid ID number (demo data, tests): `sequence` 0-499 picks the order code."""
    order = sequence * 2 + (1 if sex is Sex.MALE else 0)
    if not 0 < order < 1000:
        raise ValueError("sequence out of range")
    first17 = f"{region_code}{birth_date:%Y%m%d}{order:03d}"
    return first17 + check_character(first17)
