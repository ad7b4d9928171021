"""Payment roster (发放名册): the bank's layout, full numbers kept as text, totals per school to the fen,
formulas neutralised in xlsx and CSV, stable line numbers, only released batches, only district staff."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.audit.models import AuditEvent
from core.xlsx import neutralise
from disbursements.models import BankLayout, Batch, BatchKind, BatchStatus, LineStatus, PaymentLine
from disbursements.services import batches
from disbursements.services.exports import DEFAULT_LAYOUT, payment_roster
from funding.models import Program
from funding.services import awards, budgets
from schools.permissions import Role
from schools.services import tenant_system_user
from students.models import Student
from tests.factories import make_semester, user_with_role
from tests.money import approved_list, identify

POST = "中国邮政储蓄银行"  # no layout configured: the default one
RCC = "农村信用社"  # the factory configures [["序号", "seq"], ["姓名", "name"], ["账号", "account"]]
NASTY = {
    "c1": ('=HYPERLINK("http://x")', "欧阳娜娜"),
    "c2": ("+1", "张三丰"),
    "c3": ("-1", "@SUM(A1)"),
}


@dataclass
class Released:
    batch: Batch
    semester: object
    district: object


def _approve_s2(w, semester):
    """s2's list (junior pupils, 312.50 each) by an officer of s2."""
    officer = user_with_role(w.tenant, Role.SCHOOL_OFFICER, w.schools["s2"])
    program = Program.objects.get(code="LIVING_SUBSIDY")
    award_list = awards.award_list_build(actor=officer, program=program, semester=semester, school=w.schools["s2"])
    award_list = awards.award_list_publish(actor=officer, award_list=award_list, starts_on=dt.date(2026, 9, 14))
    # The district computes the budgets again now that s2's pupils are on its list.
    budgets.budgets_compute(actor=w.users[Role.DISTRICT_STAFF], program=program, semester=semester)
    awards.award_list_approve(actor=w.users[Role.DISTRICT_STAFF], award_list=award_list, today=dt.date(2026, 10, 1))
    return officer


def release(w) -> Released:
    """A spring batch of ten lines (s1: six pupils, 250.00; s2: two, 312.50) through the services: names
    that look like formulas, two banks, released to the bank."""
    district = w.users[Role.DISTRICT_STAFF]
    semester = make_semester(academic_year=2026, term="SPRING")
    for key, names in NASTY.items():
        for pupil, name in zip(w.students[key], names, strict=True):
            Student.objects.filter(pk=pupil.pk).update(name=name, card_holder="")
    Student.objects.filter(pk=w.students["c2"][0].pk).update(card_holder="=cmd|' /C calc'!A0")
    for pupil in w.students["c3"] + w.students["c4"][:1]:
        Student.objects.filter(pk=pupil.pk).update(card_bank=POST)
    for pupil in w.all_students:
        identify(w, pupil)
    approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
    officer2 = _approve_s2(w, semester)
    batch = batches.batch_build(actor=district, semester=semester, kind=BatchKind.FIRST).batch
    batches.batch_confirm_school(actor=w.users[Role.SCHOOL_OFFICER], batch=batch, school=w.schools["s1"])
    batches.batch_confirm_school(actor=officer2, batch=batch, school=w.schools["s2"])
    return Released(batch=batches.batch_release(actor=district, batch=batch), semester=semester, district=district)


@pytest.fixture
def released(world, tenant_of) -> Released:
    with tenant_of(world.a.tenant):
        return release(world.a)


def _sent(batch, bank=None):
    lines = PaymentLine.objects.filter(batch=batch, status__in=[LineStatus.EXPORTED, LineStatus.PAID])
    return lines.filter(bank=bank) if bank else lines


def test_the_xlsx_roster_has_the_default_layout_full_numbers_as_text_and_totals_per_school(
    world, tenant_of, released, tmp_path
):
    path = tmp_path / "roster.xlsx"
    with tenant_of(world.a.tenant):
        export = payment_roster(actor=released.district, batch=released.batch, bank=POST, fmt="xlsx", target=path)
        lines = {str(line.pk): line for line in _sent(released.batch, POST).select_related("student")}
    assert export.lines == len(lines) == 3
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["发放名册", "学校汇总"]
    sheet = book["发放名册"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [header for header, _field in DEFAULT_LAYOUT]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    header = list(rows[0])
    by_ref = {row[header.index("业务编号")]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_ref) == set(lines)
    for ref, row in by_ref.items():
        line = lines[ref]
        assert row["姓名"] == neutralise(line.student.name)
        assert row["身份证号"] == line.student.id_number.reveal()  # full, 18 characters, as text
        assert row["账号"] == line.account.reveal()
        assert isinstance(row["账号"], str)
        assert row["账号"].isdigit()
        assert len(row["账号"]) == 19
        assert isinstance(row["金额"], float)
        assert Decimal(str(row["金额"])) == line.amount
        assert row["开户银行"] == POST
    assert [row["序号"] for row in sorted(by_ref.values(), key=lambda r: r["序号"])] == [1, 2, 3]
    assert "欧阳娜娜" not in {r["姓名"] for r in by_ref.values()}  # c1 banks with the RCC
    assert "'-1" in {r["姓名"] for r in by_ref.values()}
    totals = list(book["学校汇总"].iter_rows(values_only=True))
    assert totals[0] == ("学校标识码", "学校", "笔数", "金额")
    per_school = {row[1]: (row[2], Decimal(str(row[3]))) for row in totals[1:-1]}
    assert per_school == {
        world.a.schools["s1"].name: (2, Decimal("500.00")),
        world.a.schools["s2"].name: (1, Decimal("312.50")),
    }
    grand = totals[-1]
    assert grand[0] == "合计"
    assert (grand[2], Decimal(str(grand[3]))) == (3, sum(line.amount for line in lines.values()))
    assert export.amount == Decimal("812.50")


def test_the_roster_follows_the_banks_layout(world, tenant_of, released, tmp_path):
    with tenant_of(world.a.tenant):
        payment_roster(actor=released.district, batch=released.batch, bank=RCC, fmt="xlsx", target=tmp_path / "r.xlsx")
        accounts = {line.account.reveal() for line in _sent(released.batch, RCC)}
    rows = list(openpyxl.load_workbook(tmp_path / "r.xlsx")["发放名册"].iter_rows(values_only=True))
    assert rows[0] == ("序号", "姓名", "账号")
    assert [row[0] for row in rows[1:]] == [1, 2, 3, 4, 5]
    assert {row[2] for row in rows[1:]} == accounts
    assert "欧阳娜娜" in {row[1] for row in rows[1:]}


def test_formulas_are_neutralised_in_xlsx_and_csv(world, tenant_of, released, tmp_path):
    with tenant_of(world.a.tenant):
        for fmt in ("xlsx", "csv"):
            payment_roster(actor=released.district, batch=released.batch, fmt=fmt, target=tmp_path / f"all.{fmt}")
    expected = {'\'=HYPERLINK("http://x")', "'+1", "'-1", "'@SUM(A1)"}
    book = openpyxl.load_workbook(tmp_path / "all.xlsx")
    cells = [c for row in book["发放名册"].iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    names = {c.value for c in cells if c.column_letter == "C"}
    assert expected <= names
    assert "'=cmd|' /C calc'!A0" in {c.value for c in cells if c.column_letter == "F"}
    with zipfile.ZipFile(tmp_path / "all.xlsx") as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")
    text = (tmp_path / "all.csv").read_bytes().decode("gb18030")  # the default layout's encoding
    rows = list(csv.reader(io.StringIO(text)))
    assert {row[2] for row in rows[1:]} >= expected
    assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@")]


def test_the_csv_uses_the_layouts_encoding_amounts_as_text_and_school_totals_beside_it(
    world, tenant_of, released, tmp_path
):
    with tenant_of(world.a.tenant):
        BankLayout.objects.create(
            bank=POST,
            columns=[
                ["业务编号", "ref"],
                ["户名", "holder"],
                ["卡号", "account"],
                ["金额", "amount"],
                ["学校", "school"],
            ],
            csv_encoding="UTF-8",
        )
        out, totals = io.BytesIO(), io.BytesIO()
        export = payment_roster(
            actor=released.district, batch=released.batch, bank=POST, fmt="csv", target=out, totals_target=totals
        )
        expected = {str(line.pk): line for line in _sent(released.batch, POST)}
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))
    assert rows[0] == ["业务编号", "户名", "卡号", "金额", "学校"]
    assert {row[0]: row[3] for row in rows[1:]} == {ref: f"{line.amount:.2f}" for ref, line in expected.items()}
    assert {row[3] for row in rows[1:]} == {"250.00", "312.50"}
    assert {row[2] for row in rows[1:]} == {line.account.reveal() for line in expected.values()}
    school_rows = list(csv.reader(io.StringIO(totals.getvalue().decode("utf-8"))))
    assert school_rows[0] == ["学校标识码", "学校", "笔数", "金额"]
    assert school_rows[-1] == ["合计", "", "3", "812.50"]
    assert sum(Decimal(row[3]) for row in school_rows[1:-1]) == export.amount == Decimal("812.50")


def test_line_numbers_and_references_stay_the_same_on_every_export(world, tenant_of, released, tmp_path):
    def numbers(name):
        rows = list(openpyxl.load_workbook(tmp_path / name)["发放名册"].iter_rows(values_only=True))
        return {(row[0], row[1]) for row in rows[1:]}

    with tenant_of(world.a.tenant):
        payment_roster(actor=released.district, batch=released.batch, bank=POST, fmt="xlsx", target=tmp_path / "1.xlsx")
        line = _sent(released.batch, POST).first()
        PaymentLine.objects.filter(pk=line.pk).update(status=LineStatus.FAILED, bank_code="E01")
        payment_roster(actor=released.district, batch=released.batch, bank=POST, fmt="xlsx", target=tmp_path / "2.xlsx")
    assert numbers("1.xlsx") == numbers("2.xlsx")
    assert len(numbers("1.xlsx")) == 3


def test_only_a_released_batch_and_only_the_district_export(world, tenant_of, released, tmp_path):
    target = tmp_path / "x.xlsx"
    with tenant_of(world.a.tenant):
        for user in (world.a.users[Role.SCHOOL_OFFICER], world.a.users[Role.DISTRICT_AUDITOR]):
            with pytest.raises(PermissionDenied):
                payment_roster(actor=user, batch=released.batch, fmt="xlsx", target=target)
        with pytest.raises(PermissionDenied):
            payment_roster(actor=world.b.users[Role.DISTRICT_STAFF], batch=released.batch, fmt="xlsx", target=target)
        with pytest.raises(ValidationError):
            payment_roster(actor=released.district, batch=released.batch, fmt="pdf", target=target)
        with pytest.raises(ValidationError):
            payment_roster(actor=released.district, batch=released.batch, bank="无此银行", fmt="xlsx", target=target)
        payment_roster(actor=tenant_system_user(world.a.tenant), batch=released.batch, fmt="csv", target=io.BytesIO())
        Batch.objects.filter(pk=released.batch.pk).update(status=BatchStatus.FROZEN)  # as if not yet released
        with pytest.raises(ValidationError, match=r"released|发放"):
            payment_roster(actor=released.district, batch=released.batch, fmt="xlsx", target=target)
    with tenant_of(world.b.tenant), pytest.raises(PermissionDenied):
        payment_roster(actor=world.a.users[Role.DISTRICT_STAFF], batch=released.batch, fmt="xlsx", target=target)


def test_the_export_is_in_the_audit_trail(world, tenant_of, released):
    with tenant_of(world.a.tenant):
        payment_roster(actor=released.district, batch=released.batch, bank=RCC, fmt="csv", target=io.BytesIO())
        event = AuditEvent.objects.filter(action="payments.export").get()
    assert (event.object_id, event.after["lines"], event.after["bank"], event.after["format"]) == (
        str(released.batch.pk),
        5,
        RCC,
        "csv",
    )
    assert event.after["amount"] == "1312.50"


def test_the_export_reads_the_lines_in_one_query_whatever_their_number(world, tenant_of, released):
    with tenant_of(world.a.tenant), CaptureQueriesContext(connection) as queries:
        payment_roster(actor=released.district, batch=released.batch, fmt="xlsx", target=io.BytesIO())
    line_reads = [q for q in queries.captured_queries if 'FROM "disbursements_paymentline"' in q["sql"]]
    assert len(line_reads) == 2  # the groups (bank, source) and the lines themselves
    assert len(queries.captured_queries) < 20


def test_the_command_writes_one_file_per_bank_and_source(world, tenant_of, released, tmp_path):
    call_command(
        "export_payments", "--tenant", world.a.tenant.slug, "--batch", str(released.batch.pk), "--format", "xlsx",
        "--out", str(tmp_path), "--as", released.district.username, stdout=io.StringIO(),
    )  # fmt: skip
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2
    assert all(name.endswith("_CENTRAL.xlsx") for name in files)
    single = tmp_path / "single" / "roster.csv"
    single.parent.mkdir()
    out = io.StringIO()
    call_command(
        "export_payments", "--tenant", world.a.tenant.slug, "--batch", str(released.batch.pk), "--format", "csv",
        "--out", str(single), "--bank", RCC, stdout=out,
    )  # fmt: skip
    assert "5 lines, 1312.50 yuan" in out.getvalue()
    assert sorted(p.name for p in single.parent.iterdir()) == ["roster-totals.csv", "roster.csv"]
    with pytest.raises(CommandError, match="no batch"):
        call_command(
            "export_payments", "--tenant", world.a.tenant.slug, "--batch", str(world.b.batch.pk), "--format", "csv",
            "--out", str(tmp_path / "x.csv"),
        )  # fmt: skip
    with pytest.raises(CommandError, match="may not"):
        call_command(
            "export_payments", "--tenant", world.a.tenant.slug, "--batch", str(released.batch.pk), "--format", "csv",
            "--out", str(tmp_path / "x.csv"), "--as", world.a.users[Role.SCHOOL_OFFICER].username,
        )  # fmt: skip
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.skipif(not shutil.which("libreoffice"), reason="LibreOffice is not installed")
def test_libreoffice_opens_the_roster(world, tenant_of, released, tmp_path):
    with tenant_of(world.a.tenant):
        payment_roster(actor=released.district, batch=released.batch, bank=POST, fmt="xlsx", target=tmp_path / "r.xlsx")
    subprocess.run(  # noqa: S603  (our own file, a fixed program)
        [
            shutil.which("libreoffice"),
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1",  # comma, quote, UTF-8 (76), first sheet
            "--outdir",
            str(tmp_path),
            str(tmp_path / "r.xlsx"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    rows = list(csv.reader(Path(tmp_path / "r.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0][:3] == ["序号", "业务编号", "姓名"]
    assert len(rows) == 4
    assert all(len(row[4]) == 19 for row in rows[1:])  # the account, every digit kept
    assert all(len(row[3]) == 18 for row in rows[1:])  # the ID number too
    assert sorted(row[6] for row in rows[1:]) == ["250.00", "250.00", "312.50"]  # money cells, two places
    assert "'-1" in {row[2] for row in rows[1:]}
