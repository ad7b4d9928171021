"""Registry imports: xlsx and CSV (UTF-8, GB18030), saved column mappings, the row report, re-imports,
the changes since the previous snapshot, bad files, encryption at rest, tenants and permissions."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from audits.models import ColumnMapping, Finding, ReconciliationRun, RegistryEntry, RegistrySnapshot
from audits.reconciliation.services import reconciliation_run
from audits.registry.reader import RegistryFileError
from audits.registry.services import MSG_NO_VALID_ROWS, RowCode, mapping_save, registry_import
from schools.permissions import Role
from students import idcard
from students.models import Student
from students.tests.test_roster_files import BILLION_LAUGHS

REGION = "410622"


def _id(seq: int, year: int = 1980) -> str:
    return idcard.compose(REGION, dt.date(year, 3, 3), seq, idcard.Sex.FEMALE)


def _csv(rows: list[list[str]], encoding: str) -> io.BytesIO:
    return io.BytesIO("\n".join(",".join(r) for r in rows).encode(encoding))


def _xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.number_format = "@"  # ID numbers as text, as the import asks
    book.save(path)
    return path


def _district(w):
    return w.users[Role.DISTRICT_STAFF]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_csv_in_utf8_or_gb18030_is_imported(world, tenant_of, encoding):
    w = world.a
    with tenant_of(w.tenant):
        result = registry_import(
            actor=_district(w), source="CIVIL", file_name="低保.csv",
            file=_csv([["姓名", "身份证号", "类别"], ["张三", _id(1), "低保"], ["李四", _id(2), "特困供养"]], encoding),
        )  # fmt: skip
        assert result.created
        assert result.counts == {"rows": 2, "kept": 2, "rejected": 0}
        entries = list(RegistryEntry.objects.filter(snapshot=result.snapshot).order_by("row_number"))
        assert [(e.row_number, e.name, e.id_number.reveal(), e.category) for e in entries] == [
            (2, "张三", _id(1), "DIBAO"),
            (3, "李四", _id(2), "TEKUN"),
        ]
        assert result.snapshot.file_name == "低保.csv"
        assert result.snapshot.changes == {"previous": None}


def test_an_xlsx_with_a_saved_mapping_of_odd_headers_is_read_and_the_mapping_reused(world, tenant_of, tmp_path):
    w = world.a
    header = ["序号", "家庭成员 姓名", "成员证件号（18位）", "户主证件", "帮扶属性", "所在乡镇"]
    with tenant_of(w.tenant):
        mapping = mapping_save(
            actor=_district(w), source="RURAL", name="乡村振兴局 2026",
            columns={"name": "家庭成员 姓名", "id_number": "成员证件号（18位）",
                     "household_id_number": "户主证件", "category": "帮扶属性", "township": "所在乡镇"},
            category_values={"三类户": "EDGE_POVERTY", "一类户": "LIFTED"},
        )  # fmt: skip
        first = _xlsx(
            tmp_path / "rural-1.xlsx", header,
            [[1, "王五", _id(3), _id(4), "一类户", "城关镇"], [2, "赵六", _id(5), "", "三类户", "南湾乡"]],
        )  # fmt: skip
        r1 = registry_import(actor=_district(w), source="RURAL", file=first, mapping=mapping)
        assert r1.created
        assert r1.counts["kept"] == 2
        assert r1.snapshot.mapping_id == mapping.pk
        e = RegistryEntry.objects.get(snapshot=r1.snapshot, row_number=2)
        assert (e.name, e.category, e.township, e.household_id_number.reveal()) == ("王五", "LIFTED", "城关镇", _id(4))
        assert RegistryEntry.objects.get(snapshot=r1.snapshot, row_number=3).category == "EDGE_POVERTY"

        # Next month's file of the same department: the saved mapping, looked up again, reads it.
        second = _xlsx(tmp_path / "rural-2.xlsx", header, [[1, "孙七", _id(6), "", "三类户", "城关镇"]])
        again = ColumnMapping.objects.get(source="RURAL", name="乡村振兴局 2026")
        r2 = registry_import(actor=_district(w), source="RURAL", file=second, mapping=again)
        assert r2.created
        assert RegistryEntry.objects.get(snapshot=r2.snapshot).category == "EDGE_POVERTY"
        # Without the mapping the file's headers are not found.
        with pytest.raises(RegistryFileError) as caught:
            registry_import(actor=_district(w), source="RURAL", file=_xlsx(tmp_path / "r3.xlsx", header, [[1, "x"]]))
        assert "姓名" in caught.value.message


def test_the_row_report_names_every_bad_row_and_bad_rows_are_not_written(world, tenant_of, tmp_path):
    w = world.a
    good, dup = _id(10), _id(11)
    bad_check = _id(12)[:-1] + ("0" if _id(12)[-1] != "0" else "1")
    rows = [
        ["好人", good, "", "低保"],  # row 2: kept
        ["", _id(13), "", "低保"],  # 3: no name
        ["数字", 410622198003031234, "", "低保"],  # 4: the ID stored as a number
        ["校验", bad_check, "", "低保"],  # 5: wrong check digit
        ["户主", _id(14), "12345", "低保"],  # 6: bad household head's ID
        ["外星", _id(15), "", "外星人"],  # 7: unknown category
        ["重复", dup, "", "低保"],  # 8: kept
        ["重复", dup, "", "低保户"],  # 9: the same person and category again
    ]
    path = _xlsx(tmp_path / "civil.xlsx", ["姓名", "身份证号", "户主身份证号", "类别"], rows)
    report = tmp_path / "report.xlsx"
    with tenant_of(w.tenant):
        mapping = mapping_save(
            actor=_district(w), source="CIVIL", name="民政",
            columns={"name": "姓名", "id_number": "身份证号", "household_id_number": "户主身份证号",
                     "category": "类别"},
        )  # fmt: skip
        result = registry_import(actor=_district(w), source="CIVIL", file=path, mapping=mapping, report_path=report)
        assert [(p.row, p.code) for p in result.rejected] == [
            (3, RowCode.NAME_EMPTY),
            (4, RowCode.ID_AS_NUMBER),
            (5, idcard.IdProblem.CHECK_DIGIT.value),
            (6, RowCode.HOUSEHOLD_ID_INVALID),
            (7, RowCode.CATEGORY_UNKNOWN),
            (9, RowCode.DUPLICATE),
        ]
        assert all(p.message for p in result.rejected)
        assert "外星人" in result.rejected[4].message
        assert "8" in result.rejected[5].message
        assert result.counts == {"rows": 8, "kept": 2, "rejected": 6}
        kept = RegistryEntry.objects.filter(snapshot=result.snapshot)
        assert sorted(kept.values_list("row_number", flat=True)) == [2, 8]
        assert result.snapshot.problems[0] == {"row": 3, "code": "NAME_EMPTY", "message": result.rejected[0].message}
        sheet = openpyxl.load_workbook(report, read_only=True).worksheets[0]
        assert [r[:2] for r in sheet.iter_rows(values_only=True)][1:] == [(p.row, p.code) for p in result.rejected]


def test_a_sheet_whose_header_sits_below_empty_rows_is_read_with_excel_row_numbers(world, tenant_of, tmp_path):
    """The rows keep their Excel numbers however calamine yields them (from row 1, padded, in the
    version installed): the header on row 3 is found, and the bad row is reported as row 5."""
    w = world.a
    book = openpyxl.Workbook()
    sheet = book.active
    for number, row in ((3, ["姓名", "身份证号", "类别"]), (4, ["甲", _id(31), "低保"]), (5, ["", _id(32), "低保"])):
        for column, value in enumerate(row, start=1):
            sheet.cell(number, column, value).number_format = "@"
    path = tmp_path / "below.xlsx"
    book.save(path)
    with tenant_of(w.tenant):
        result = registry_import(actor=_district(w), source="CIVIL", file=path)
        assert [(p.row, p.code) for p in result.rejected] == [(5, RowCode.NAME_EMPTY)]
        assert list(RegistryEntry.objects.filter(snapshot=result.snapshot).values_list("row_number", flat=True)) == [4]


def test_a_file_with_no_valid_row_writes_nothing(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant):
        with pytest.raises(ValidationError) as caught:
            registry_import(
                actor=_district(w),
                source="CIVIL",
                file=_csv([["姓名", "身份证号", "类别"], ["", _id(1), "低保"]], "utf-8"),
            )
        assert caught.value.messages == [str(MSG_NO_VALID_ROWS)]
        assert RegistrySnapshot.objects.count() == 0
        assert RegistryEntry.objects.count() == 0


def test_the_same_file_again_writes_nothing_and_changes_are_counted_against_the_previous_snapshot(world, tenant_of):
    w = world.a
    a, b, c, d = _id(21), _id(22), _id(23), _id(24)
    first = [["姓名", "身份证号", "类别"], ["甲", a, "低保"], ["乙", b, "低保"], ["丙", c, "低保"]]
    with tenant_of(w.tenant):
        r1 = registry_import(
            actor=_district(w), source="CIVIL", file=_csv(first, "gb18030"), taken_on=dt.date(2026, 9, 1)
        )
        entries = RegistryEntry.objects.count()
        again = registry_import(actor=_district(w), source="CIVIL", file=_csv(first, "gb18030"))
        assert (again.created, again.snapshot.pk) == (False, r1.snapshot.pk)
        assert RegistryEntry.objects.count() == entries
        assert RegistrySnapshot.objects.count() == 1

        # A month later: 甲 unchanged, 乙 now 特困 (changed), 丙 gone (removed), 丁 new (added).
        second = [["姓名", "身份证号", "类别"], ["甲", a, "低保"], ["乙", b, "特困"], ["丁", d, "低保"]]
        r2 = registry_import(
            actor=_district(w), source="CIVIL", file=_csv(second, "gb18030"), taken_on=dt.date(2026, 10, 1)
        )
        assert r2.created
        changes = r2.snapshot.changes
        assert changes["previous"] == str(r1.snapshot.pk)
        assert (changes["added"], changes["removed"], changes["changed"]) == (1, 1, 1)
        # Another source's first snapshot has no previous one.
        r3 = registry_import(
            actor=_district(w), source="VETERANS", file=_csv([["姓名", "身份证号"], ["戊", d]], "utf-8")
        )
        assert r3.snapshot.changes == {"previous": None}
        assert RegistryEntry.objects.get(snapshot=r3.snapshot).category == "MARTYR_CHILD"  # the source's default


def _workbook(tmp_path: Path) -> Path:
    return _xlsx(tmp_path / "ok.xlsx", ["姓名", "身份证号", "类别"], [["甲", _id(1), "低保"]])


def _rewrite(source: Path, target: Path, replace: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info.filename, replace.get(info.filename, src.read(info.filename)))
    return target


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {}
    files["binary"] = tmp_path / "photo.xlsx"
    files["binary"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(2000))
    files["old_xls"] = tmp_path / "old.xls"
    files["old_xls"].write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)
    files["entities"] = _rewrite(
        _workbook(tmp_path), tmp_path / "laughs.xlsx", {"xl/worksheets/sheet1.xml": BILLION_LAUGHS}
    )
    files["no_header"] = tmp_path / "list.csv"
    files["no_header"].write_text("a,b\n1,2\n", encoding="utf-8")
    bomb = tmp_path / "bomb.xlsx"
    source = _workbook(tmp_path)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info.filename, src.read(info.filename))
        with out.open("xl/media/image1.png", "w") as member:
            for _ in range(950):
                member.write(bytes(1024 * 1024))
    files["zip_bomb"] = bomb
    return files


def test_bad_files_are_refused_with_a_message_and_write_nothing(world, tenant_of, tmp_path):
    w = world.a
    files = _bad_files(tmp_path)
    assert files["zip_bomb"].stat().st_size < 2 * 1024 * 1024  # small on disk, 950 MB unpacked
    messages = {}
    with tenant_of(w.tenant):
        for kind, path in files.items():
            with pytest.raises(RegistryFileError) as caught:
                registry_import(actor=_district(w), source="CIVIL", file=path)
            messages[kind] = caught.value.message
            assert caught.value.message, kind
        assert RegistrySnapshot.objects.count() == 0
        assert RegistryEntry.objects.count() == 0
    assert ".xlsx" in messages["binary"]
    assert ".xls" in messages["old_xls"]
    assert messages["entities"] == messages["zip_bomb"]  # packed in a way Excel never writes
    assert "姓名" in messages["no_header"]


def test_entries_are_encrypted_at_rest_and_found_by_the_students_blind_index(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant):
        pupil = w.students["c2"][0]
        plain = pupil.id_number.reveal()
        result = registry_import(
            actor=_district(w),
            source="CIVIL",
            file=_csv([["姓名", "身份证号", "类别"], [pupil.name, plain, "低保"]], "utf-8"),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id_number, id_number_hash FROM {RegistryEntry._meta.db_table} WHERE row_number = 2"  # noqa: S608
            )
            (stored, hashed), *rest = cursor.fetchall()
        assert not rest
        assert plain not in str(stored)
        assert plain[-8:] not in str(stored)
        assert hashed == Student.objects.get(pk=pupil.pk).id_number_hash
        assert RegistryEntry.objects.get(snapshot=result.snapshot).id_number.reveal() == plain


def test_another_tenant_sees_none_of_it(world, tenant_of):
    a, b = world.a, world.b
    data = [["姓名", "身份证号", "类别"], [a.students["c2"][0].name, a.students["c2"][0].id_number.reveal(), "低保"]]
    with tenant_of(a.tenant):
        mapping_save(actor=_district(a), source="CIVIL", name="民政", columns={"name": "姓名", "id_number": "身份证号"})
        registry_import(actor=_district(a), source="CIVIL", file=_csv(data, "utf-8"))
        run, _ = reconciliation_run(actor=_district(a), semester=a.semester)
        assert run.findings.count() == 1
    with tenant_of(b.tenant):
        for model in (ColumnMapping, RegistrySnapshot, RegistryEntry, ReconciliationRun, Finding):
            assert model.objects.count() == 0, model
        # The same bytes are a new snapshot for tenant B (its own fingerprint space), naming none of its pupils.
        result = registry_import(actor=_district(b), source="CIVIL", file=_csv(data, "utf-8"))
        assert result.created
        run_b, _ = reconciliation_run(actor=_district(b), semester=b.semester)
        assert run_b.findings.count() == 0
    with tenant_of(a.tenant):
        assert RegistrySnapshot.objects.count() == 1
        assert ReconciliationRun.objects.count() == 1


def test_a_school_officer_cannot_import_map_or_run(world, tenant_of):
    w = world.a
    for role in (Role.SCHOOL_OFFICER, Role.PRINCIPAL, Role.CLASS_TEACHER, Role.DISTRICT_AUDITOR):
        user = w.users[role]
        with tenant_of(w.tenant):
            with pytest.raises(PermissionDenied):
                registry_import(actor=user, source="CIVIL", file=_csv([["姓名", "身份证号"], ["甲", _id(1)]], "utf-8"))
            with pytest.raises(PermissionDenied):
                mapping_save(actor=user, source="CIVIL", name="x", columns={"name": "姓名", "id_number": "身份证号"})
            with pytest.raises(PermissionDenied):
                reconciliation_run(actor=user, semester=w.semester)
            assert RegistrySnapshot.objects.count() == 0
            assert ColumnMapping.objects.count() == 0


@pytest.mark.postgres
def test_statements_over_a_whole_fresh_snapshot_never_loop_over_it(world, tenant_of):
    """A snapshot imported moments ago has no planner statistics: PostgreSQL guessed a handful of rows
    and compared two million-row snapshots with a nested loop for over ten minutes. The comparison is
    a grouping with no join at all; the reconciliation's join runs with nested loops off. Their plans,
    taken as the product runs them, hold no nested loop (on this small data the planner would choose
    one for the join: bench/snapshot_compare.sql shows what that costs at scale)."""
    w = world.a
    plans: dict[str, str] = {}

    def capture(execute, sql, params, many, context):
        if not sql.startswith("EXPLAIN") and "audits_registryentry" in sql:
            kind = "match" if "UNION ALL" in sql else "compare" if "GROUP BY person" in sql else None
            if kind:
                with context["connection"].cursor() as cursor:
                    cursor.execute(f"EXPLAIN {sql}", params)
                    plans[kind] = "\n".join(row[0] for row in cursor.fetchall())
        return execute(sql, params, many, context)

    first = [["姓名", "身份证号", "类别"], ["甲", _id(31), "低保"], ["乙", _id(32), "低保"]]
    second = [["姓名", "身份证号", "类别"], ["甲", _id(31), "特困"], ["丙", _id(33), "低保"]]
    with tenant_of(w.tenant):
        registry_import(actor=_district(w), source="CIVIL", file=_csv(first, "utf-8"), taken_on=dt.date(2026, 9, 1))
        with connection.execute_wrapper(capture):
            r2 = registry_import(
                actor=_district(w), source="CIVIL", file=_csv(second, "utf-8"), taken_on=dt.date(2026, 10, 1)
            )
            reconciliation_run(actor=_district(w), semester=w.semester)
        assert (r2.snapshot.changes["added"], r2.snapshot.changes["removed"], r2.snapshot.changes["changed"]) == (
            1, 1, 1,
        )  # fmt: skip
        assert set(plans) == {"compare", "match"}
        assert "Join" not in plans["compare"]
        assert "Loop" not in plans["compare"]
        assert "Nested Loop" not in plans["match"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_nestloop')")
            assert cursor.fetchone()[0] == "on"  # put back after the join
