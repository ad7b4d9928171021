"""Bank returns (回盘): lines paid or failed with the bank's code, the same file twice changes nothing, rows
that fit no line or disagree with it reported, paid + failed == sent to the fen, failed lines paid again
in the reissue batch once the card is fixed, bad files refused whole."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.audit.models import AuditEvent
from core.crypto import blind_index
from disbursements.models import BankReturn, Batch, BatchKind, BatchStatus, LineStatus, PaymentLine
from disbursements.services import batches
from disbursements.services.exports import payment_roster
from disbursements.services.returns import ReturnFileError, bank_return_import, batch_reconcile
from disbursements.tests.test_exports import RCC, release
from schools.permissions import Role
from students.models import Student

HEADER = ["业务编号", "账号", "户名", "金额", "状态", "错误代码", "失败原因"]


@pytest.fixture
def released(world, tenant_of):
    with tenant_of(world.a.tenant):
        return release(world.a)


def roster(batch, district, bank=None):
    """The roster as the bank got it (default layout, GB18030 CSV): one dict per line."""
    out = io.BytesIO()
    payment_roster(actor=district, batch=batch, bank=bank, fmt="csv", target=out)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("gb18030"))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def answer(line, status="成功", code="0000", message=""):
    return [line["业务编号"], line["账号"], line["户名"], line["金额"], status, code, message]


def csv_file(rows, *, header=HEADER, encoding="utf-8"):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return io.BytesIO(text.getvalue().encode(encoding))


def do_import(released, data, name="return.csv", actor=None):
    return bank_return_import(actor=actor or released.district, batch=released.batch, path_or_file=data, file_name=name)


def test_a_return_marks_lines_paid_or_failed_with_the_banks_code_and_closes_the_batch(world, tenant_of, released):
    with tenant_of(world.a.tenant):
        lines = roster(released.batch, released.district)
        assert len(lines) == 8
        failed = {lines[0]["业务编号"]: ("E01", "卡未激活"), lines[1]["业务编号"]: ("E02", "账户已销户")}
        rows = [
            answer(line, "失败", *failed[line["业务编号"]]) if line["业务编号"] in failed else answer(line)
            for line in lines
        ]
        result = do_import(released, csv_file(rows, encoding="gb18030"), name="回盘20270315.csv")
        assert (result.paid_count, result.failed_count, result.problems) == (6, 2, [])
        assert result.paid_amount + result.failed_amount == Decimal("2125.00")
        assert result.closed
        released.batch.refresh_from_db()
        assert released.batch.status == BatchStatus.CLOSED
        for line in PaymentLine.objects.filter(batch=released.batch):
            assert line.return_file == "回盘20270315.csv"
            assert line.returned_at is not None
            if str(line.pk) in failed:
                assert (line.status, line.bank_code, line.bank_message) == (LineStatus.FAILED, *failed[str(line.pk)])
            else:
                assert (line.status, line.bank_code) == (LineStatus.PAID, "0000")
        record = BankReturn.objects.get(batch=released.batch)
        assert (record.paid_count, record.failed_count, record.problems) == (6, 2, [])
        assert record.paid_amount + record.failed_amount == Decimal("2125.00")
        assert AuditEvent.objects.filter(action="line.return").count() == 8
        r = result.reconciliation
        assert r.balanced
        assert r.sent_amount == r.paid_amount + r.failed_amount == Decimal("2125.00")
        assert (r.waiting_count, r.waiting_amount) == (0, Decimal("0.00"))


def test_lines_are_updated_set_based_a_few_statements_for_the_whole_file(world, tenant_of, released):
    with tenant_of(world.a.tenant):
        lines = roster(released.batch, released.district)
        rows = [answer(line, "失败", "E01", "卡未激活") if i % 4 == 0 else answer(line) for i, line in enumerate(lines)]
        with CaptureQueriesContext(connection) as queries:
            do_import(released, csv_file(rows))
    updates = [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "disbursements_paymentline"')]
    assert len(updates) == 2  # one per answer (status, code, message)


def test_importing_the_same_file_again_changes_nothing_and_says_so(world, tenant_of, released):
    with tenant_of(world.a.tenant):
        lines = roster(released.batch, released.district)
        data = csv_file([answer(line) for line in lines[:5]]).getvalue()
        first = do_import(released, io.BytesIO(data))
        assert (first.paid_count, first.already_imported) == (5, False)
        before = list(PaymentLine.objects.filter(batch=released.batch).order_by("pk").values())
        events = AuditEvent.objects.count()
        again = do_import(released, io.BytesIO(data), name="same-bytes-other-name.csv")
        assert again.already_imported
        assert again.bank_return == first.bank_return
        assert (again.paid_count, again.failed_count) == (0, 0)
        assert list(PaymentLine.objects.filter(batch=released.batch).order_by("pk").values()) == before
        assert BankReturn.objects.filter(batch=released.batch).count() == 1
        assert AuditEvent.objects.count() == events
        released.batch.refresh_from_db()
        assert released.batch.status == BatchStatus.RELEASED  # three lines still wait


def test_rows_that_fit_no_line_or_disagree_with_it_are_reported_not_applied(world, tenant_of, released):
    with tenant_of(world.a.tenant):
        lines = roster(released.batch, released.district)
        good, wrong_amount, wrong_account, twice, odd = lines[:5]
        rows = [
            answer(good),
            [*answer(wrong_amount)[:3], "250.01", "成功", "0000", ""],
            [wrong_account["业务编号"], "6221000000000000001", "", wrong_account["金额"], "成功", "", ""],
            answer(twice),
            answer(twice, "失败", "E03", "户名不符"),
            answer(odd, "处理中", "", ""),
            [str(uuid.uuid4()), "6221000000000000002", "", "100.00", "成功", "", ""],
            [str(world.a.line.pk), "6221000000000000003", "", "250.00", "成功", "", ""],  # another batch's line
            ["not-a-reference", "6221000000000000004", "", "100.00", "成功", "", ""],
        ]
        result = do_import(released, csv_file(rows))
        codes = sorted((p["row"], p["problem"]) for p in result.problems if p["row"])
        assert codes == [
            (3, "AMOUNT_MISMATCH"),
            (4, "ACCOUNT_MISMATCH"),
            (5, "DUPLICATE"),
            (6, "DUPLICATE"),
            (7, "UNKNOWN_STATUS"),
            (8, "UNKNOWN_LINE"),
            (9, "OTHER_BATCH"),
            (10, "BAD_REFERENCE"),
        ]
        assert result.paid_count == 1
        statuses = dict(PaymentLine.objects.filter(batch=released.batch).values_list("pk", "status"))
        assert statuses[uuid.UUID(good["业务编号"])] == LineStatus.PAID
        for line in (wrong_amount, wrong_account, twice, odd):
            assert statuses[uuid.UUID(line["业务编号"])] == LineStatus.EXPORTED  # still waits for an answer
        stored = BankReturn.objects.get(batch=released.batch).problems
        assert sorted((p["row"], p["problem"]) for p in stored if p["row"]) == codes
        message = next(p["message"] for p in stored if p["problem"] == "AMOUNT_MISMATCH")
        assert "250.01" in message
        assert "250.00" in message
        assert "0000000000000001" not in str(stored)  # account numbers are masked in the problems


def test_paid_plus_failed_equals_the_batch_to_the_fen_and_a_mismatch_is_reported(world, tenant_of, released):
    with tenant_of(world.a.tenant):
        lines = roster(released.batch, released.district)
        do_import(released, csv_file([answer(line) for line in lines[:4]]), name="part1.csv")
        r = batch_reconcile(batch=released.batch)
        assert r.balanced
        assert r.sent_amount == r.paid_amount + r.failed_amount + r.waiting_amount
        assert (r.paid_count, r.waiting_count) == (4, 4)
        # A line marked paid behind the returns' back: the batch no longer reconciles, and says so.
        sneaky = PaymentLine.objects.get(pk=lines[4]["业务编号"])
        PaymentLine.objects.filter(pk=sneaky.pk).update(status=LineStatus.PAID)
        rows = [answer(line, "失败", "E01", "卡未激活") for line in lines[5:]]
        result = do_import(released, csv_file(rows), name="part2.csv")
        assert not result.reconciliation.balanced
        assert result.reconciliation.waiting_count == 0
        assert not result.closed
        problems = [p for p in result.problems if p["problem"] == "RECONCILIATION"]
        assert len(problems) == 1
        paid = sum(Decimal(line["金额"]) for line in lines[:5])
        message = problems[0]["message"]  # in the page's language: check the figures it names
        assert str(paid) in message  # the paid lines, the sneaky one with them
        assert str(paid - sneaky.amount) in message  # what the returns said
        assert BankReturn.objects.get(file_name="part2.csv").problems == result.problems
        released.batch.refresh_from_db()
        assert released.batch.status == BatchStatus.RELEASED


def test_an_xlsx_return_is_matched_by_the_rosters_line_numbers(world, tenant_of, released, tmp_path):
    """The RCC's layout has 序号 and no 业务编号: its return names lines by number (and the account)."""
    with tenant_of(world.a.tenant):
        out = io.BytesIO()
        payment_roster(actor=released.district, batch=released.batch, bank=RCC, fmt="xlsx", target=out)
        sheet = openpyxl.load_workbook(out)["发放名册"]
        sent = [row for row in sheet.iter_rows(min_row=2, values_only=True)]
        amounts = dict(PaymentLine.objects.filter(batch=released.batch, bank=RCC).values_list("account_hash", "amount"))
        book = openpyxl.Workbook()
        ws = book.active
        ws.title = "回盘"
        ws.append(["代发业务回盘文件"])  # a title above the header
        ws.append(["序号", "卡号", "户名", "交易金额", "处理状态", "返回码", "错误信息"])
        total = Decimal("0.00")
        for seq, name, account in sent:
            amount = amounts[blind_index(account, kind="account")]
            total += amount
            status = ("失败", "E05", "户名与账号不符") if seq == 2 else ("成功", "0000", "")
            ws.append([seq, account, name, float(amount), *status])
        ws.append(["合计", None, None, float(total)])
        path = tmp_path / "回盘.xlsx"
        book.save(path)
        result = bank_return_import(
            actor=released.district, batch=released.batch, path_or_file=path, file_name="回盘.xlsx"
        )
        assert (result.paid_count, result.failed_count, result.problems) == (4, 1, [])
        assert PaymentLine.objects.get(bank=RCC, batch=released.batch, bank_code="E05").bank_message == "户名与账号不符"


def test_failed_lines_wait_and_are_paid_again_in_the_reissue_batch_once_the_card_is_fixed(world, tenant_of, released):
    with tenant_of(world.a.tenant):
        lines = roster(released.batch, released.district)
        rows = [answer(lines[0], "失败", "E01", "卡未激活"), *(answer(line) for line in lines[1:])]
        do_import(released, csv_file(rows))
        failed = PaymentLine.objects.get(pk=lines[0]["业务编号"])
        assert (failed.status, failed.bank_message) == (LineStatus.FAILED, "卡未激活")
        waiting = batches.batch_build(actor=released.district, semester=released.semester, kind=BatchKind.REISSUE)
        assert waiting.batch is None  # the same card would fail again
        assert [reason for _award, reason in waiting.skipped if "卡未激活" in reason]
        student = Student.objects.get(pk=failed.student_id)
        student.card_account = "6228480000000000018"  # the family activated a new card
        student.save(update_fields=["card_account", "card_account_hash", "updated_at"])
        again = batches.batch_build(actor=released.district, semester=released.semester, kind=BatchKind.REISSUE)
        reissued = again.batch.lines.get()
        assert (reissued.award_id, reissued.amount) == (failed.award_id, failed.amount)
        assert reissued.account.reveal() == "6228480000000000018"
        failed.refresh_from_db()
        assert (failed.status, failed.bank_code, failed.return_file) == (LineStatus.FAILED, "E01", "return.csv")


def test_a_later_file_that_contradicts_an_answer_is_reported_and_changes_nothing(world, tenant_of, released):
    with tenant_of(world.a.tenant):
        lines = roster(released.batch, released.district)
        do_import(released, csv_file([answer(lines[0])]), name="first.csv")
        again = do_import(released, csv_file([answer(lines[0]), answer(lines[1])]), name="second.csv")
        assert (again.paid_count, again.unchanged, again.problems) == (1, 1, [])
        result = do_import(released, csv_file([answer(lines[0], "失败", "E09", "冲正")]), name="third.csv")
        assert [p["problem"] for p in result.problems] == ["CONFLICT"]
        assert "first.csv" in result.problems[0]["message"]
        line = PaymentLine.objects.get(pk=lines[0]["业务编号"])
        assert (line.status, line.return_file) == (LineStatus.PAID, "first.csv")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xd0\xcf\x11\xe0" + b"\0" * 100, r"97-2003|\.xls"),
        (b"PK\x03\x04 not really a zip", r"neither|Excel|xlsx"),
        ("名字,金额\n张三,100\n".encode(), r"业务编号|账号|状态"),
        (b"\xff\xfe\x00\x00garbage\x81\xff", r"neither|UTF-8|GB18030"),
        ("业务编号,账号,金额,状态\n".encode(), r"no lines|没有"),
    ],
)
def test_a_bad_file_is_refused_whole(world, tenant_of, released, data, message):
    with tenant_of(world.a.tenant):
        with pytest.raises(ReturnFileError, match=message):
            do_import(released, io.BytesIO(data))
        assert not BankReturn.objects.filter(batch=released.batch).exists()
        assert not PaymentLine.objects.filter(batch=released.batch, status=LineStatus.PAID).exists()


def test_a_workbook_with_formulas_or_a_file_of_another_batch_is_refused(world, tenant_of, released, tmp_path):
    with tenant_of(world.a.tenant):
        lines = roster(released.batch, released.district)
        book = openpyxl.Workbook()
        book.active.append(HEADER)
        book.active.append([*answer(lines[0])[:3], "=100+150", "成功", "", ""])
        book.save(tmp_path / "f.xlsx")
        with pytest.raises(ReturnFileError, match=r"formula|公式"):
            do_import(released, tmp_path / "f.xlsx")
        strangers = [[str(uuid.uuid4()), "6221000000000000002", "", "100.00", "成功", "", ""]]
        with pytest.raises(ReturnFileError, match=r"another batch|其他批次|Nothing"):
            do_import(released, csv_file(strangers))
        assert not BankReturn.objects.filter(batch=released.batch).exists()


def test_only_the_district_imports_returns_and_only_for_a_released_batch(world, tenant_of, released):
    with tenant_of(world.a.tenant):
        lines = roster(released.batch, released.district)
        data = csv_file([answer(lines[0])])
        with pytest.raises(PermissionDenied):
            do_import(released, data, actor=world.a.users[Role.SCHOOL_OFFICER])
        Batch.objects.filter(pk=released.batch.pk).update(status=BatchStatus.FROZEN)  # as if not yet released
        with pytest.raises(ValidationError, match=r"released|发放"):
            do_import(released, data)
        Batch.objects.filter(pk=released.batch.pk).update(status=BatchStatus.RELEASED)
    with tenant_of(world.b.tenant), pytest.raises(PermissionDenied):
        do_import(released, data, actor=world.b.users[Role.DISTRICT_STAFF])


def test_the_command_imports_and_exits_non_zero_when_something_needs_a_look(world, tenant_of, released, tmp_path):
    with tenant_of(world.a.tenant):
        lines = roster(released.batch, released.district)
    path = tmp_path / "return.csv"
    path.write_bytes(csv_file([answer(line) for line in lines[:3]], encoding="gb18030").getvalue())
    args = ["import_bank_return", str(path), "--tenant", world.a.tenant.slug, "--batch", str(released.batch.pk)]
    out = io.StringIO()
    call_command(*args, stdout=out)
    assert "3 paid" in out.getvalue()
    assert "reconciled" in out.getvalue()
    out = io.StringIO()
    call_command(*args, "--as", released.district.username, stdout=out)
    assert "imported already" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file([[*answer(lines[3])[:3], "1.00", "成功", "", ""]]).getvalue())
    with pytest.raises(CommandError) as problems:
        call_command(*args[:1], str(bad), *args[2:], stdout=io.StringIO(), stderr=io.StringIO())
    assert problems.value.returncode == 2
    with pytest.raises(CommandError) as refused:
        call_command(*args, "--as", world.a.users[Role.SCHOOL_OFFICER].username)
    assert refused.value.returncode == 1
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_bank_return", str(tmp_path / "none.csv"), *args[2:])
    with tenant_of(world.a.tenant):
        assert PaymentLine.objects.filter(batch=released.batch, status=LineStatus.PAID).count() == 3


def test_a_file_whose_own_total_is_not_the_sum_of_its_rows_is_reported(world, tenant_of, released):
    with tenant_of(world.a.tenant):
        lines = roster(released.batch, released.district)
        rows = [answer(line) for line in lines[:2]]
        stated = sum(Decimal(line["金额"]) for line in lines[:2]) + Decimal("0.01")
        result = do_import(released, csv_file([*rows, ["合计", "", "", str(stated), "", "", ""]]))
        assert result.paid_count == 2
        assert [(p["row"], p["problem"]) for p in result.problems] == [(4, "FILE_TOTAL")]
        assert str(stated) in result.problems[0]["message"]


def test_the_result_says_in_a_sentence_what_happened(world, tenant_of, released):
    with tenant_of(world.a.tenant):
        lines = roster(released.batch, released.district)
        data = csv_file([answer(lines[0]), answer(lines[1], "失败", "E01", "卡未激活")]).getvalue()
        first = str(do_import(released, io.BytesIO(data), name="a.csv"))
        again = str(do_import(released, io.BytesIO(data), name="b.csv"))
    assert "1" in first
    assert "a.csv" in again
    assert first != again
