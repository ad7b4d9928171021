"""The kernel's safe spreadsheet intake (core.intake), as the roster, the registries and the bank's
returns use it: one set of checks, one CSV decoder, one wording of the problems that an intake may
word its own way. The bad files themselves are tried in students/tests/test_roster_files.py."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest
from django.utils import translation

from core.intake import text, workbook
from core.intake.problems import MESSAGES, FileError, FileProblem, raised_as
from students.roster.problems import FILE_MESSAGES, RosterFileError


def _book(path, sheets):
    """A workbook with the named sheets, each a list of rows (None: leave the row empty)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for number, row in enumerate(rows, start=1):
            for column, value in enumerate(row or [], start=1):
                sheet.cell(number, column, value)
    book.save(path)
    return path


def test_csv_text_is_utf8_with_or_without_its_mark_or_gb18030():
    assert text.decode("\ufeff姓名,身份证号\n".encode()) == "姓名,身份证号\n"
    assert text.decode("姓名,身份证号\n".encode("gb18030")) == "姓名,身份证号\n"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("姓名\n".encode("utf-16"), FileProblem.NOT_XLSX),  # a NUL near the start: not text we read
        (b"%PDF-1.4\x00\x00\x01", FileProblem.NOT_XLSX),
        (b"\x81\x30\xff\xfe garbage", FileProblem.ENCODING),
    ],
)
def test_bytes_that_are_not_utf8_or_gb18030_text_are_refused(data, problem):
    with pytest.raises(FileError) as caught:
        text.decode(data)
    assert caught.value.problem is problem


def test_csv_rows_are_split_on_the_delimiter_of_the_first_line_and_numbered_from_one():
    assert list(text.rows("a;b;c\n1;2;3\n")) == [(1, ["a", "b", "c"]), (2, ["1", "2", "3"])]
    assert list(text.rows("a\tb\tc,d\n1\t2\t3,4\n")) == [(1, ["a", "b", "c,d"]), (2, ["1", "2", "3,4"])]


class _WordedError(FileError):
    messages = {FileProblem.FORMULA: "formulas in %(cells)s"}


def test_a_problem_is_said_in_the_intakes_own_words_else_in_the_kernels():
    kernel = FileError(FileProblem.FORMULA, cells="B2")
    assert kernel.message == str(MESSAGES[FileProblem.FORMULA]) % {"cells": "B2"}
    assert _WordedError(FileProblem.FORMULA, cells="B2").message == "formulas in B2"
    assert _WordedError(FileProblem.NO_ROWS).message == str(MESSAGES[FileProblem.NO_ROWS])
    assert kernel.message_in({FileProblem.FORMULA: "formulas in %(cells)s"}) == "formulas in B2"
    assert kernel.message_in({}) == kernel.message
    # A problem the kernel leaves to the intake that finds it, said by one that has no words for it.
    wrong = FileError(FileProblem.WRONG_SHEET, expected="学籍名册", found="“Sheet1”")
    assert "WRONG_SHEET" in wrong.message


def test_the_roster_words_the_kernels_problems_for_teachers_and_names_the_sheet_it_expects():
    roster = RosterFileError(FileProblem.FORMULA, cells="B2")
    assert roster.message == str(FILE_MESSAGES[FileProblem.FORMULA]) % {"cells": "B2"}
    assert roster.message != FileError(FileProblem.FORMULA, cells="B2").message
    assert set(FILE_MESSAGES) == set(FileProblem) - {FileProblem.ENCODING}  # a roster is never CSV
    wrong = RosterFileError(FileProblem.WRONG_SHEET, expected="学籍名册", found="“Sheet1”")
    assert "学籍名册" in wrong.message
    assert "Sheet1" in wrong.message


def test_the_kernels_refusal_leaves_as_the_intakes_error_with_its_problem_and_details():
    with pytest.raises(_WordedError) as caught, raised_as(_WordedError):
        raise FileError(FileProblem.TOO_MANY_ROWS, limit="10")
    assert (caught.value.problem, caught.value.params) == (FileProblem.TOO_MANY_ROWS, {"limit": "10"})
    assert isinstance(caught.value.__cause__, FileError)


def test_the_kernels_messages_are_translated():
    for problem, message in MESSAGES.items():
        with translation.override("en"):
            english = str(message)
        with translation.override("zh-hans"):
            assert str(message) != english, problem  # the catalog has it


def test_a_zip_is_a_workbook_to_check_an_ole_file_is_an_old_xls_and_text_is_neither(tmp_path):
    book = _book(tmp_path / "b.xlsx", {"Sheet1": [["a"]]})
    csv_file = tmp_path / "r.csv"
    csv_file.write_text("a,b\n", encoding="utf-8")
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    assert workbook.is_xlsx(book)
    assert not workbook.is_xlsx(csv_file)
    with pytest.raises(FileError) as caught:
        workbook.is_xlsx(old)
    assert caught.value.problem is FileProblem.OLD_XLS


def test_every_sheet_is_checked_with_the_intakes_own_limits(tmp_path):
    path = _book(tmp_path / "two.xlsx", {"封面": [["回盘"]], "明细": [["a"], ["b"], ["c"]]})
    workbook.inspect_every_sheet(path)
    with pytest.raises(FileError) as caught:
        workbook.inspect_every_sheet(path, max_rows=2)
    assert caught.value.problem is FileProblem.TOO_MANY_ROWS
    assert "2" in caught.value.message
    formula = _book(tmp_path / "f.xlsx", {"封面": [["回盘"]], "明细": [["a"], ["=1+1"]]})
    with pytest.raises(FileError) as caught:
        workbook.inspect_every_sheet(formula)
    assert (caught.value.problem, caught.value.params) == (FileProblem.FORMULA, {"cells": "A2"})


def test_inspect_finds_the_named_sheet_or_the_only_one(tmp_path):
    path = _book(tmp_path / "named.xlsx", {"说明": [["x"]], "学籍名册": [["a"], ["b"]]})
    found = workbook.inspect(path, sheet="学籍名册", max_bytes=10 * 1024 * 1024)
    assert (found.sheet_name, found.rows) == ("学籍名册", 2)
    assert workbook.inspect(path, sheet="学籍名册", max_bytes=10 * 1024 * 1024, scan=False).rows == 0
    only = _book(tmp_path / "only.xlsx", {"Sheet1": [["a"]]})
    assert workbook.inspect(only, sheet="学籍名册", max_bytes=10 * 1024 * 1024).sheet_name == "Sheet1"
    with pytest.raises(FileError) as caught:
        workbook.inspect(path, sheet="名单", max_bytes=10 * 1024 * 1024)
    assert caught.value.problem is FileProblem.WRONG_SHEET
    assert caught.value.params == {"expected": "名单", "found": "“说明”、“学籍名册”"}
    with pytest.raises(FileError) as caught:
        workbook.inspect(path, sheet="学籍名册", max_bytes=100)
    assert caught.value.problem is FileProblem.TOO_LARGE


def test_sheets_number_their_rows_as_excel_does_even_below_empty_rows(tmp_path):
    """calamine yields a sheet's rows from row 1 (padded) or from its first non-empty row, depending on
    its version: either way a row keeps its Excel number (the registry and the bank's return numbered
    rows below empty top rows from the first non-empty one's number, as if not padded)."""
    path = _book(tmp_path / "rows.xlsx", {"空": [], "明细": [None, None, ["标题"], None, ["a", 1]]})
    empty, detail = workbook.sheets(path)
    assert (empty.name, empty.empty, list(empty.rows())) == ("空", True, [])
    assert (detail.name, detail.last_row) == ("明细", 5)
    numbered = [(n, [c for c in cells if c not in ("", None)]) for n, cells in detail.rows()]
    assert [(n, cells) for n, cells in numbered if cells] == [(3, ["标题"]), (5, ["a", 1])]
    assert numbered[-1][0] == detail.last_row
    assert workbook.open_sheet(path, name="明细").last_row == 5
    assert workbook.open_sheet(path).name == "空"


def test_a_sheet_calamine_cannot_read_is_unreadable_naming_why(tmp_path):
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(FileError) as caught:
        workbook.open_sheet(path)
    assert caught.value.problem is FileProblem.UNREADABLE
    assert caught.value.params["detail"]
