"""The CSV a year of the official calendar is loaded from: read whole, every problem named by its line."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from schools.models import CalendarDayKind
from schools.official_calendar.files import (
    MAX_BYTES,
    CalendarFileError,
    read_calendar_file,
    template_file,
    write_calendar_file,
)
from schools.official_calendar.library import library_file, library_years

D = dt.date
H, W = CalendarDayKind.HOLIDAY, CalendarDayKind.WORKDAY


def _problems(text: str, *, year: int = 2027, encoding: str = "utf-8") -> list[str]:
    with translation.override("zh-hans"), pytest.raises(CalendarFileError) as caught:
        read_calendar_file(text.encode(encoding), year=year)
    return caught.value.messages


def test_a_good_file_gives_its_days_with_their_kinds_and_names():
    text = "date,kind,name\n2027-01-01,holiday,虚构元旦\n\n# a comment\n2027/1/30,班,虚构节\n2027-01-27,节假日,虚构节\n"
    parsed = read_calendar_file(text.encode(), year=2027)
    assert parsed.days() == {
        (D(2027, 1, 1), H, "虚构元旦"),
        (D(2027, 1, 30), W, "虚构节"),
        (D(2027, 1, 27), H, "虚构节"),
    }
    assert (parsed.holidays, parsed.workdays) == (2, 1)
    assert [r.line for r in parsed.rows] == [2, 5, 6]  # lines as an editor numbers them


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_excel_encodings_are_read_and_the_header_may_be_chinese_or_absent(encoding):
    with_header = "日期,类型,名称\r\n2027-01-26,休,虚构节\r\n2027-01-30,调休上班,虚构节\r\n"
    assert read_calendar_file(with_header.encode(encoding), year=2027).days() == {
        (D(2027, 1, 26), H, "虚构节"),
        (D(2027, 1, 30), W, "虚构节"),
    }
    bare = "2027-01-26,Holiday,虚构节\n"
    assert read_calendar_file(bare.encode(encoding), year=2027).holidays == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("date,kind,name\n2027-01-01,holiday,元旦\n2027-02-30,holiday,虚构节\n", "第3行：“2027-02-30”不是有效日期"),
        ("date,kind,name\n2027-13-01,holiday,虚构节\n", "第2行：“2027-13-01”不是有效日期"),
        ("date,kind,name\n01/02/2027,holiday,虚构节\n", "第2行：“01/02/2027”不是有效日期"),
        ("date,kind,name\n2026-12-31,holiday,虚构节\n", "第2行：2026-12-31 不在 2027 年内"),
        (
            "2027-01-26,holiday,虚构节\n2027-01-27,holiday,虚构节\n2027-01-26,holiday,虚构节\n",
            "第3行：2027-01-26 已在第1行出现",
        ),
        ("2027-01-30,holiday,虚构节\n2027-01-30,workday,虚构节\n", "第2行：2027-01-30 在第1行是另一种类型"),
        ("2027-01-26,rest,虚构节\n", "第1行：类型“rest”无效"),
        ("2027-01-26,holiday,\n", "第1行：请填写节日名称"),
        ("2027-01-26,holiday\n", "第1行：应为三列"),
        ("2027-01-26,holiday,虚构节,extra\n", "第1行：应为三列"),
        ("2027-01-27,workday,虚构节\n", "第1行：2027-01-27 是周一至周五"),
        ("date,kind,name\n# only comments\n", "文件中没有任何日期"),
    ],
)
def test_a_bad_file_is_refused_with_the_line_named(text, expected):
    problems = _problems(text)
    assert any(expected in p for p in problems), problems


def test_every_bad_line_is_reported_not_only_the_first():
    problems = _problems("2027-01-26,holiday,虚构节\n2027-02-30,holiday,x\n2027-01-27,rest,x\n2026-05-01,holiday,x\n")
    assert [p[:3] for p in problems] == ["第2行", "第3行", "第4行"]


def test_a_file_that_is_not_text_or_far_too_large_is_refused():
    with translation.override("zh-hans"):
        with pytest.raises(CalendarFileError, match="UTF-8 或 GB18030"):
            read_calendar_file(b"\x89PNG\r\n\x1a\n\xff\xfe\xfd", year=2027)
        with pytest.raises(CalendarFileError, match="过大"):
            read_calendar_file(b"2027-01-26,holiday,x\n" * (MAX_BYTES // 20), year=2027)


def test_what_is_written_reads_back_the_same():
    days = {(D(2027, 1, 26), H, "虚构节"), (D(2027, 1, 30), W, "虚构节")}
    assert read_calendar_file(write_calendar_file(days), year=2027).days() == days


def test_the_template_loads_nothing_until_filled_in():
    with pytest.raises(CalendarFileError):  # the examples are comments
        read_calendar_file(template_file(2027), year=2027)
    filled = template_file(2027) + "2027-01-26,holiday,虚构节\n".encode()
    assert read_calendar_file(filled, year=2027).holidays == 1


def test_every_year_of_the_package_passes_the_checks_an_uploaded_file_gets():
    years = library_years()
    assert years[0] == 2004
    assert 2027 not in years  # chinesecalendar 1.11.0 ends with 2026: the premise of the refusal tests
    for year in years:
        read_calendar_file(library_file(year), year=year)
    assert library_file(2027) is None
