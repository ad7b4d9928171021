"""Bad roster files: each is refused with a clear message, within seconds, before any parser sees it."""

from __future__ import annotations

import io
import os
import struct
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from students.roster import reader
from students.roster.problems import FileProblem, RosterFileError
from students.tests.test_roster_support import pupil, read_report, run_import, write_roster

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>"""


def _refused(path: Path, problem: FileProblem) -> RosterFileError:
    started = time.monotonic()
    with pytest.raises(RosterFileError) as caught:
        reader.open_roster(path)
    assert caught.value.problem is problem, caught.value.message
    assert time.monotonic() - started < 5, "a bad file is refused within seconds"
    assert caught.value.message  # a sentence for the user, never a traceback
    return caught.value


def _workbook(tmp_path: Path, name: str = "ok.xlsx") -> Path:
    return write_roster(tmp_path / name, [{"姓名": "x"}])


def _rewrite(source: Path, target: Path, replace: dict[str, bytes], *, extra: dict[str, bytes] | None = None) -> Path:
    """A copy of a workbook with some parts replaced (or added)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info.filename, replace.get(info.filename, src.read(info.filename)))
        for name, data in (extra or {}).items():
            out.writestr(name, data)
    return target


def test_a_pdf_or_text_file_renamed_xlsx_is_not_a_workbook(tmp_path):
    pdf = tmp_path / "名册.xlsx"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n" * 100)
    error = _refused(pdf, FileProblem.NOT_XLSX)
    assert ".xlsx" in error.message
    text = tmp_path / "text.xlsx"
    text.write_text("学校标识码,学段,姓名\n1,2,3\n", encoding="utf-8")
    _refused(text, FileProblem.NOT_XLSX)


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "doc.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    _refused(path, FileProblem.NOT_XLSX)


def test_an_old_xls_or_encrypted_workbook_is_named_as_such(tmp_path):
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)
    _refused(path, FileProblem.OLD_XLS)


def test_50_mb_of_junk_is_refused_at_once(tmp_path, settings):
    junk = tmp_path / "junk.xlsx"
    with junk.open("wb") as out:
        for _ in range(50):
            out.write(os.urandom(1024 * 1024))
    _refused(junk, FileProblem.NOT_XLSX)
    # The same junk dressed as a zip: the zip directory cannot be read.
    disguised = tmp_path / "disguised.xlsx"
    with junk.open("rb") as source, disguised.open("wb") as out:
        out.write(b"PK\x03\x04")
        out.write(source.read(49 * 1024 * 1024))
    _refused(disguised, FileProblem.NOT_XLSX)
    # Above the upload limit: refused on its size, without being opened.
    settings.MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    error = _refused(junk, FileProblem.TOO_LARGE)
    assert "10" in error.message


def test_a_workbook_without_the_roster_sheet_names_the_sheets_it_has(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    book.create_sheet("汇总")
    path = tmp_path / "sheets.xlsx"
    book.save(path)
    error = _refused(path, FileProblem.WRONG_SHEET)
    assert "学籍名册" in error.message
    assert "Sheet1" in error.message
    assert "汇总" in error.message


def test_a_single_sheet_with_another_name_is_read(world, tmp_path):
    path = write_roster(tmp_path / "one.xlsx", [pupil(world.a)], sheet="Sheet1")
    assert run_import(world.a.tenant, path).created == 1


def test_missing_columns_are_named(tmp_path):
    headers = ("学校标识码", "学段", "入学年份", "班号", "姓名", "性别")
    path = write_roster(tmp_path / "cols.xlsx", [{"姓名": "x"}], headers=headers)
    error = _refused(path, FileProblem.MISSING_COLUMNS)
    assert "身份证号" in error.message
    assert "学籍状态" in error.message
    assert "户籍性质" in error.message
    assert "姓名" not in error.message


def test_a_header_only_sheet_has_no_rows(tmp_path):
    _refused(write_roster(tmp_path / "empty.xlsx", []), FileProblem.NO_ROWS)


def test_a_title_row_above_the_header_is_allowed_and_rows_keep_their_excel_numbers(world, tmp_path):
    path = write_roster(tmp_path / "title.xlsx", [pupil(world.a), {"姓名": "only a name"}])
    book = openpyxl.load_workbook(path)
    book.active.insert_rows(1, amount=2)
    book.active["A1"] = "某某学校2025年秋季学籍名册"
    book.save(path)
    report = tmp_path / "report.xlsx"
    outcome = run_import(world.a.tenant, path, report=report)
    assert (outcome.created, outcome.rejected) == (1, 1)
    assert [int(r[0]) for r in read_report(report)[1:]] == [4, 5]


def test_formulas_are_refused_naming_the_cells(tmp_path):
    path = write_roster(tmp_path / "f.xlsx", [{"姓名": "x", "身份证号": '=CONCATENATE("4106","22")'}])
    error = _refused(path, FileProblem.FORMULA)
    assert "F2" in error.message


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    """A small file that unpacks huge: 20 MB of zeros packs into about 20 KB."""
    source = _workbook(tmp_path)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info.filename, src.read(info.filename))
        with out.open("xl/media/image1.png", "w") as member:
            for _ in range(20):
                member.write(bytes(1024 * 1024))
    assert bomb.stat().st_size < 200 * 1024
    error = _refused(bomb, FileProblem.ZIP_BOMB)
    assert "MB" in error.message


def _lying_zip(source: Path, target: Path) -> Path:
    """A copy of a workbook whose directory says its sheet is 1 KB; the data inflates to 20 MB more."""
    sheet_xml = zipfile.ZipFile(source).read("xl/worksheets/sheet1.xml")
    padded = sheet_xml.replace(b"<sheetData>", b"<sheetData>" + b" " * (20 * 1024 * 1024))
    liar = _rewrite(source, target, {"xl/worksheets/sheet1.xml": padded})
    data = bytearray(liar.read_bytes())
    # Patch the sheet's declared size in the central directory (offset 24) and the local header (22).
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = 0
        while (at := data.find(signature, at)) != -1:
            name_at = at + (46 if signature == b"PK\x01\x02" else 30)
            if data[name_at : name_at + 24] == b"xl/worksheets/sheet1.xml":
                struct.pack_into("<L", data, at + offset, 1024)
            at += 4
    liar.write_bytes(bytes(data))
    return liar


def test_a_zip_that_lies_about_its_unpacked_size_is_caught_while_unpacking(tmp_path):
    """The directory says 1 KB; the data inflates to 20 MB. The scan counts real bytes."""
    _refused(_lying_zip(_workbook(tmp_path), tmp_path / "liar.xlsx"), FileProblem.ZIP_BOMB)


def test_an_xml_entity_bomb_is_refused_before_parsing(tmp_path):
    source = _workbook(tmp_path)
    bomb = _rewrite(source, tmp_path / "laughs.xlsx", {"xl/worksheets/sheet1.xml": BILLION_LAUGHS})
    error = _refused(bomb, FileProblem.XML_ENTITIES)
    assert "DOCTYPE" in error.message
    # In any part, not only the sheet.
    other = _rewrite(source, tmp_path / "styles.xlsx", {"xl/styles.xml": BILLION_LAUGHS})
    _refused(other, FileProblem.XML_ENTITIES)


def test_utf16_xml_is_refused(tmp_path):
    source = _workbook(tmp_path)
    sheet_xml = zipfile.ZipFile(source).read("xl/worksheets/sheet1.xml")
    utf16 = _rewrite(source, tmp_path / "u16.xlsx", {"xl/worksheets/sheet1.xml": sheet_xml.decode().encode("utf-16")})
    _refused(utf16, FileProblem.XML_ENTITIES)


def test_an_ordinary_workbook_passes_inspection(tmp_path):
    path = _workbook(tmp_path)
    inspection = reader.inspect(path)
    assert inspection.sheet_name == "学籍名册"
    assert inspection.rows == 2


def test_the_import_refuses_a_bad_file_with_its_message(world, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(io.BytesIO(b"not a workbook").getvalue())
    with pytest.raises(RosterFileError) as caught:
        run_import(world.a.tenant, path)
    assert caught.value.problem is FileProblem.NOT_XLSX


def test_a_sheet_the_readers_cannot_read_is_refused_with_its_message(world, tmp_path, settings):
    """Read beside the import (a large roster, PostgreSQL), the sheet is opened by the readers:
    its refusal (here: missing columns, in Chinese) reaches the importer as the same RosterFileError."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("rows are read beside the import on PostgreSQL only")
    settings.ROSTER_PARALLEL_ROWS = 1
    headers = ("学校标识码", "学段", "入学年份", "班号", "姓名", "性别")
    path = write_roster(tmp_path / "cols.xlsx", [{"姓名": "x"}], headers=headers)
    with pytest.raises(RosterFileError) as caught:
        run_import(world.a.tenant, path)
    assert caught.value.problem is FileProblem.MISSING_COLUMNS
    assert "身份证号" in caught.value.message


@pytest.mark.parametrize("kind", ["formula", "lying zip", "entities"])
def test_a_file_the_checks_refuse_is_not_imported_though_the_readers_parsed_it_meanwhile(
    world, tenant_of, tmp_path, settings, kind
):
    """Read beside the import (PostgreSQL), the first reader starts parsing the sheet as soon as the
    checks that take no time pass (reader.peek), while the importer runs the others. Their verdict
    still decides, at once: the file's problem is the import's error, nothing is written, and no
    reader is left running."""
    from django.db import connection

    from students.models import Student
    from students.tests.test_roster_support import reader_processes

    if connection.vendor != "postgresql":
        pytest.skip("rows are read beside the import on PostgreSQL only")
    settings.ROSTER_PARALLEL_ROWS = 1
    good = write_roster(tmp_path / "good.xlsx", [pupil(world.a) for _ in range(3)])
    path, problem = {
        "formula": (
            write_roster(tmp_path / "f.xlsx", [pupil(world.a, 姓名='=CONCATENATE("王","五")')]),
            FileProblem.FORMULA,
        ),
        "lying zip": (_lying_zip(good, tmp_path / "liar.xlsx"), FileProblem.ZIP_BOMB),
        "entities": (
            _rewrite(good, tmp_path / "lol.xlsx", {"xl/styles.xml": BILLION_LAUGHS}),
            FileProblem.XML_ENTITIES,
        ),
    }[kind]
    assert reader.peek(path).sheet_name == "学籍名册"  # the reader may parse it
    with tenant_of(world.a.tenant):
        registered = Student.objects.count()

    started = time.monotonic()
    with pytest.raises(RosterFileError) as caught:
        run_import(world.a.tenant, path)
    assert caught.value.problem is problem
    assert time.monotonic() - started < 5
    assert not [pid for pid, (ppid, state) in reader_processes().items() if ppid == os.getpid() and state != "Z"]
    with tenant_of(world.a.tenant):
        assert Student.objects.count() == registered
