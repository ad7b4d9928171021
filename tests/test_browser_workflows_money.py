"""In a real browser: the semester's first batch (built by the district, confirmed by each school,
released, its payment roster downloaded, the bank's return uploaded with a refused line), and the
corrections of awards found wrong (停发 / 追回: proposed by the school, decided by the district, the
recovery followed to its end)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal as D

import openpyxl
import pytest

from core.audit.models import AuditEvent
from core.tenancy.context import tenant_transaction
from disbursements.models import (
    BankLayout,
    Batch,
    BatchKind,
    BatchStatus,
    Correction,
    CorrectionKind,
    CorrectionStatus,
    LineStatus,
    PaymentLine,
    RecoveryStatus,
)
from disbursements.services import batches
from disbursements.services.returns import bank_return_import
from funding.models import AwardList, AwardStatus
from funding.services import awards
from schools.permissions import Role
from tests.browser import download, messages_text, shared_chromium, signed_in, submit
from tests.factories import PASSWORD, build_world, make_semester, user_with_role
from tests.money import approved_list, identify
from tests.workers import worker_for_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _build(page, kind: str) -> None:
    """Press the build button and wait for the job's result on the batches page."""
    submit(page, f"[data-testid=build-batch] button[value={kind}]")
    page.wait_for_selector("[data-testid=batch-job] [data-testid=job][data-status=SUCCEEDED]", timeout=60_000)


@pytest.fixture(scope="module")
def browser():
    with shared_chromium() as b:
        yield b


@pytest.fixture
def approved(live_server, fictional_2027):
    """Approved living-subsidy lists of both schools for the spring semester (the pages' default):
    four day pupils of the primary school, two of the junior school."""
    world = build_world()
    w = world.a
    w.users["other_tenant"] = world.b.users[Role.DISTRICT_STAFF]  # another district's funding center
    with tenant_transaction(w.tenant.pk):
        semester = make_semester(academic_year=2026, term="SPRING")
        for key in ("c1", "c2", "c4"):
            for pupil in w.students[key]:
                identify(w, pupil)
        # The junior school's own funding officer (the world's officer works for the primary school).
        s2_officer = w.users["s2_officer"] = user_with_role(w.tenant, Role.SCHOOL_OFFICER, w.schools["s2"])
        lists = {"s1": approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)}
        junior = awards.award_list_build(
            actor=s2_officer, program=lists["s1"].program, semester=semester, school=w.schools["s2"]
        )
        junior = awards.award_list_publish(actor=s2_officer, award_list=junior, starts_on=dt.date(2026, 9, 14))
        lists["s2"] = awards.award_list_approve(
            actor=w.users[Role.DISTRICT_STAFF], award_list=junior, today=junior.ends_on + dt.timedelta(days=1)
        )
        BankLayout.objects.all().delete()  # the bank takes the default layout (with 业务编号 and 金额)
    return live_server.url, w, semester, lists


def _return_csv(rows: list[list]) -> bytes:
    header = ["业务编号", "账号", "金额", "状态", "错误代码", "失败原因"]
    return "\n".join(",".join(str(v) for v in row) for row in [header, *rows]).encode("gb18030")


def test_the_first_batch_is_confirmed_by_each_school_released_and_answered_by_the_bank(approved, browser, tmp_path):
    url, w, semester, _lists = approved
    district = signed_in(browser, url, w.users[Role.DISTRICT_STAFF].username, PASSWORD)

    # Build (a background job with its progress): every approved award of the semester goes into one
    # frozen batch, which the job's result opens.
    district.goto(f"{url}/disbursements/")
    with worker_for_pages():
        _build(district, "FIRST")
    assert district.locator("[data-testid=batch-result]").count() == 1
    with district.expect_navigation():
        district.click("[data-testid=batch-open]")
    assert district.get_attribute("[data-testid=batch-status]", "data-status") == BatchStatus.FROZEN
    batch_url = district.url
    schools = district.locator("[data-testid=batch-schools] tbody tr")
    assert schools.count() == 2

    # Released before the schools confirmed their pupils attend: refused, naming both schools.
    submit(district, "[data-testid=release]")
    assert district.locator(".alert-danger").count() == 1
    for school in w.schools.values():
        assert school.name in messages_text(district)
    assert district.get_attribute("[data-testid=batch-status]", "data-status") == BatchStatus.FROZEN

    # Each school's officer confirms its own pupils, and only its own: one button each.
    for username in (w.users[Role.SCHOOL_OFFICER].username, w.users["s2_officer"].username):
        officer = signed_in(browser, url, username, PASSWORD)
        officer.goto(f"{url}/disbursements/")
        with officer.expect_navigation():
            officer.locator("[data-testid=batches] tbody a").first.click()
        assert officer.url == batch_url
        assert officer.locator("[data-testid=confirm-school]").count() == 1
        submit(officer, "[data-testid=confirm-school]")
        assert officer.locator(".alert-success").count() == 1
        assert officer.locator("[data-testid=confirm-school]").count() == 0
        assert officer.locator("[data-testid=release]").count() == 0  # the district's step
        officer.context.close()

    # A class teacher has no business with the money: the batch is not theirs to open.
    teacher = signed_in(browser, url, w.users[Role.CLASS_TEACHER].username, PASSWORD)
    assert teacher.goto(batch_url).status in (403, 404)
    teacher.context.close()
    stranger = signed_in(browser, url, w.users["other_tenant"].username, PASSWORD)
    assert stranger.goto(batch_url).status == 404  # another district: as if it did not exist
    stranger.context.close()

    # Released: the roster for the bank, in its layout, holds the six lines with their full accounts.
    district.goto(batch_url)
    submit(district, "[data-testid=release]")
    assert district.get_attribute("[data-testid=batch-status]", "data-status") == BatchStatus.RELEASED
    roster_bytes = download(district, url, "[data-testid=roster-xlsx]")
    roster = openpyxl.load_workbook(io.BytesIO(roster_bytes), read_only=True)
    header, *lines = list(roster.worksheets[0].iter_rows(values_only=True))
    assert len(lines) == 6
    ref, account, amount = header.index("业务编号"), header.index("账号"), header.index("金额")
    with tenant_transaction(w.tenant.pk):
        batch = Batch.objects.get(semester=semester)
        sent = {str(line.pk): line for line in batch.lines.select_related("student", "school")}
        assert {row[account] for row in lines} == {line.account.reveal() for line in sent.values()}
    assert {row[ref] for row in lines} == set(sent)

    # The wrong file (the roster itself, sent back unanswered) is refused with a message; nothing changes.
    wrong = tmp_path / "发放名册.xlsx"
    wrong.write_bytes(roster_bytes)
    district.set_input_files("[data-testid=return] input[type=file]", str(wrong))
    submit(district, "[data-testid=return] button[type=submit]")
    assert district.locator(".alert-danger").count() >= 1
    assert district.get_attribute("[data-testid=batch-status]", "data-status") == BatchStatus.RELEASED

    # The bank's return: five paid, one refused (the card was never activated).
    refused = lines[0]
    rows = [
        [row[ref], row[account], row[amount], *(("失败", "E01", "卡未激活") if row is refused else ("成功", "", ""))]
        for row in lines
    ]
    path = tmp_path / "回盘-第1批.csv"
    path.write_bytes(_return_csv(rows))
    district.set_input_files("[data-testid=return] input[type=file]", str(path))
    submit(district, "[data-testid=return] button[type=submit]")
    assert district.locator(".alert-success").count() == 1
    assert district.get_attribute("[data-testid=batch-status]", "data-status") == BatchStatus.CLOSED
    assert "回盘-第1批.csv" in district.inner_text("[data-testid=returns]")
    refused_line = sent[refused[ref]]
    failed_table = district.locator("table", has_text="E01")
    assert refused_line.student.name in failed_table.inner_text()
    assert "卡未激活" in failed_table.inner_text()
    assert district.locator("[data-testid=return]").count() == 0  # a closed batch takes no more returns

    with tenant_transaction(w.tenant.pk):
        batch = Batch.objects.get(pk=batch.pk)
        statuses = dict(batch.lines.values_list("pk", "status"))
        failed = PaymentLine.objects.get(pk=refused_line.pk)
        confirmed = set(batch.confirmations.values_list("school_id", flat=True))
        actions = set(AuditEvent.objects.filter(object_id=str(batch.pk)).values_list("action", flat=True))
    assert batch.status == BatchStatus.CLOSED
    assert batch.kind == BatchKind.FIRST
    assert confirmed == {w.schools["s1"].pk, w.schools["s2"].pk}
    assert sorted(statuses.values()) == sorted([LineStatus.FAILED] + [LineStatus.PAID] * 5)
    assert (failed.status, failed.bank_code, failed.bank_message, failed.return_file) == (
        LineStatus.FAILED,
        "E01",
        "卡未激活",
        "回盘-第1批.csv",
    )
    assert {"batch.build", "batch.release"} <= actions

    # 补发: a reissue batch waits for the refused card to be fixed, and says why it made nothing.
    district.goto(f"{url}/disbursements/")
    with worker_for_pages():
        _build(district, "REISSUE")
        assert "卡未激活" in district.inner_text("[data-testid=batch-result]")
        assert district.locator("[data-testid=batch-open]").count() == 0
        assert district.locator("[data-testid=batches] tbody a").count() == 1
        with tenant_transaction(w.tenant.pk):  # the family's new card arrives with the next roster import
            student = refused_line.student
            student.card_account = "6228480000000000099"
            student.save(update_fields=["card_account", "card_account_hash", "updated_at"])
        district.goto(f"{url}/disbursements/")
        _build(district, "REISSUE")
    with district.expect_navigation():
        district.click("[data-testid=batch-open]")
    assert district.get_attribute("[data-testid=batch-status]", "data-status") == BatchStatus.FROZEN
    assert refused_line.school.name in district.inner_text("[data-testid=batch-schools]")
    with tenant_transaction(w.tenant.pk):
        reissue = Batch.objects.get(semester=semester, kind=BatchKind.REISSUE)
        again = list(reissue.lines.values_list("award_id", "account"))
    assert [(award, account.reveal()) for award, account in again] == [(refused_line.award_id, "6228480000000000099")]


@pytest.fixture
def paid(approved):
    """The first batch released; the bank answered the primary school's lines: the second refused, the
    others paid (the junior school's are still at the bank)."""
    url, w, semester, lists = approved
    district = w.users[Role.DISTRICT_STAFF]
    with tenant_transaction(w.tenant.pk):
        batch = batches.batch_build(actor=district, semester=semester, kind=BatchKind.FIRST).batch
        for officer, school in ((w.users[Role.SCHOOL_OFFICER], "s1"), (w.users["s2_officer"], "s2")):
            batches.batch_confirm_school(actor=officer, batch=batch, school=w.schools[school])
        batch = batches.batch_release(actor=district, batch=batch)
        lines = list(batch.lines.filter(school=w.schools["s1"]).select_related("student").order_by("-student__name"))
        answer = [
            [
                line.pk,
                line.account.reveal(),
                line.amount,
                *(("失败", "E07", "户名不符") if i == 1 else ("成功", "", "")),
            ]
            for i, line in enumerate(lines)
        ]
        answer_file = io.BytesIO(_return_csv(answer))
        bank_return_import(actor=district, batch=batch, path_or_file=answer_file, file_name="回盘.csv")
    return url, w, lists, lines[0], lines[1]


def test_wrong_awards_are_stopped_or_recovered_by_two_people_and_the_recovery_is_followed(paid, browser):
    url, w, lists, paid_line, refused_line = paid
    award_list = lists["s1"]
    officer = signed_in(browser, url, w.users[Role.SCHOOL_OFFICER].username, PASSWORD)
    district = signed_in(browser, url, w.users[Role.DISTRICT_STAFF].username, PASSWORD)

    def propose(page, award_list_pk, name, reason, evidence=""):
        """From the award's row on its list: open the "stop or recover" form, say why, send it."""
        page.goto(f"{url}/funding/awards/{award_list_pk}/")
        row = page.locator("[data-testid=awards] tbody tr", has_text=name)
        form = row.locator("[data-testid=propose-correction]")
        form.locator("summary").click()
        form.locator("input[name=reason]").fill(reason)
        form.locator("input[name=evidence]").fill(evidence)
        with page.expect_navigation():
            form.locator("form button").click()

    def correction_row(page, reason):
        # By the reason: the world has an older correction of another semester for the same pupils.
        return page.locator("[data-testid=corrections] tbody tr", has_text=reason)

    # The school proposes: the paid pupil's money is recovered (追回), the refused one's award stopped (停发).
    for line, reason in ((paid_line, "重复享受其他资助"), (refused_line, "该生已转出")):
        propose(officer, award_list.pk, line.student.name, reason, evidence="学籍系统转出记录")
        assert "/disbursements/corrections/" in officer.url
        assert officer.locator(".alert-success").count() == 1, messages_text(officer)
    assert correction_row(officer, "重复享受其他资助").count() == 1
    assert correction_row(officer, "重复享受其他资助").get_by_role("button").count() == 0  # the officer does not decide

    # The district approves the recovery and rejects the stop, with its reason.
    district.goto(f"{url}/disbursements/corrections/")
    with district.expect_navigation():
        correction_row(district, "重复享受其他资助").locator("button[name=approve][value='1']").click()
    assert district.locator(".alert-success").count() == 1
    rejected = correction_row(district, "该生已转出")
    rejected.locator("input[name=reason]").fill("转出手续未办完，仍在校")
    with district.expect_navigation():
        rejected.locator("button[name=approve][value='0']").click()
    assert "转出手续未办完，仍在校" in correction_row(district, "该生已转出").inner_text()

    # Four eyes: a correction the district proposes itself it may not approve; the page says why.
    with tenant_transaction(w.tenant.pk):
        other = (
            award_list.awards.exclude(student__in=[paid_line.student_id, refused_line.student_id])
            .select_related("student")
            .order_by("student__name")
            .first()
        )
    other_name = other.student.name
    propose(district, award_list.pk, other_name, "复查不符合条件")
    own = correction_row(district, "复查不符合条件")
    with district.expect_navigation():
        own.locator("button[name=approve][value='1']").click()
    assert district.locator(".alert-danger").count() == 1
    assert "PROPOSED" not in messages_text(district)  # a sentence, not a code

    # The recovery: the family returns part, then the rest; the case closes itself.
    recoveries = officer.locator("[data-testid=recoveries] tbody tr", has_text=paid_line.student.name)
    for amount in ("100", str(paid_line.amount - 100)):
        officer.goto(f"{url}/disbursements/corrections/")
        recoveries.locator("input[name=amount]").fill(amount)
        recoveries.locator("input[name=note]").fill("家长退回")
        with officer.expect_navigation():
            recoveries.get_by_role("button").click()
        assert officer.locator(".alert-success").count() == 1, messages_text(officer)
    assert recoveries.locator("input[name=amount]").count() == 0  # closed: nothing more to record

    # The junior school's payments are still at the bank: a stop now is refused with the reason.
    junior = signed_in(browser, url, w.users["s2_officer"].username, PASSWORD)
    propose(junior, lists["s2"].pk, w.students["c4"][0].name, "该生已转出")
    assert junior.locator(".alert-danger").count() == 1
    assert junior.locator("[data-testid=corrections] tbody tr", has_text="该生已转出").count() == 0

    with tenant_transaction(w.tenant.pk):
        assert not Correction.objects.filter(school=w.schools["s2"]).exists()
        # By award: the world's older correction (another semester) is about one of the same pupils.
        found = {c.award_id: c for c in Correction.objects.all()}
        recover, stop = found[paid_line.award_id], found[refused_line.award_id]
        own_proposal = found[other.pk]
        awards_now = dict(AwardList.objects.get(pk=award_list.pk).awards.values_list("student_id", "status"))
        recovery = recover.recoveries.get()
    assert (recover.kind, recover.status, recover.decided_by_id) == (
        CorrectionKind.RECOVER,
        CorrectionStatus.APPROVED,
        w.users[Role.DISTRICT_STAFF].pk,
    )
    assert recover.proposed_by_id == w.users[Role.SCHOOL_OFFICER].pk
    assert (stop.kind, stop.status) == (CorrectionKind.STOP, CorrectionStatus.REJECTED)
    assert own_proposal.status == CorrectionStatus.PROPOSED
    assert awards_now[paid_line.student_id] == AwardStatus.STOPPED
    assert awards_now[refused_line.student_id] == AwardStatus.APPROVED  # the stop was rejected
    assert (recovery.status, recovery.recovered_amount) == (RecoveryStatus.RECOVERED, D(paid_line.amount))
