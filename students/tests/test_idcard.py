import datetime as dt

import pytest

from students import idcard
from students.idcard import IdProblem


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",  # the GB 11643 example: Beijing, 1949-12-31, female
        "110101200001010037",  # check digit by hand: Σ = 49, 49 mod 11 = 5 → "7"
        "410622201506150021",
    ],
)
def test_known_good_numbers_parse(number):
    parsed = idcard.parse(number)
    assert parsed.number == number
    assert parsed.birth_date == dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def test_decodes_birth_date_and_sex():
    parsed = idcard.parse("11010519491231002X")
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sex is idcard.Sex.FEMALE
    assert parsed.region_code == "110105"


def test_lower_case_x_and_spaces_are_normalised():
    assert idcard.parse(" 110105 19491231 002x ").number == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("", IdProblem.EMPTY),
        ("11010519491231002", IdProblem.LENGTH),
        ("110105194912310021X", IdProblem.LENGTH),
        ("11010519491231002Y", IdProblem.CHARACTERS),
        ("1101051949123100X2", IdProblem.CHARACTERS),
        ("01010519491231002X", IdProblem.REGION),
        ("91010519491231002X", IdProblem.REGION),
        ("11010519491301002X", IdProblem.BIRTH_DATE),  # month 13
        ("11010520230229002X", IdProblem.BIRTH_DATE),  # 2023 is no leap year
        ("11010518891231002X", IdProblem.BIRTH_DATE),  # before 1900
        ("110105194912310021", IdProblem.CHECK_DIGIT),
        ("11010519491231003X", IdProblem.CHECK_DIGIT),  # one digit changed
        ("11010519491213002X", IdProblem.CHECK_DIGIT),  # two digits swapped
    ],
)
def test_known_bad_numbers_are_refused_with_the_reason(number, problem):
    with pytest.raises(idcard.InvalidIdNumber) as raised:
        idcard.parse(number)
    assert raised.value.problem is problem


def test_birth_date_in_the_future_is_refused():
    number = idcard.compose("110105", dt.date(2030, 1, 1), 5, idcard.Sex.MALE)
    with pytest.raises(idcard.InvalidIdNumber) as raised:
        idcard.parse(number, today=dt.date(2026, 11, 23))
    assert raised.value.problem is IdProblem.BIRTH_DATE


def test_check_character_matches_iso_7064_by_hand():
    # Σ(digit × weight) for 11010519491231002 is 167; 167 mod 11 = 2, and 2 maps to X.
    digits = "11010519491231002"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    assert sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 2
    assert idcard.check_character(digits) == "X"


@pytest.mark.parametrize("sex", list(idcard.Sex))
def test_composed_numbers_are_valid_and_carry_the_sex(sex):
    number = idcard.compose("410622", dt.date(2015, 6, 15), 17, sex)
    parsed = idcard.parse(number)
    assert parsed.sex is sex
    assert parsed.birth_date == dt.date(2015, 6, 15)
