"""In a real browser: the district exports a payment roster and imports the bank's return."""

from __future__ import annotations

import openpyxl
import pytest

from core.tenancy.context import tenant_transaction
from disbursements.models import BankLayout, BatchKind
from disbursements.services import batches
from schools.permissions import Role
from tests.browser import chromium, log_in
from tests.factories import PASSWORD, build_world, make_semester
from tests.money import approved_list, identify

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def released(live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    world = build_world()
    w = world.a
    with tenant_transaction(w.tenant.pk):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in [*w.students["c1"], *w.students["c2"]]:
            identify(w, pupil)
        approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
        batch = batches.batch_build(actor=w.users[Role.DISTRICT_STAFF], semester=semester, kind=BatchKind.FIRST).batch
        batches.batch_confirm_school(actor=w.users[Role.SCHOOL_OFFICER], batch=batch, school=w.schools["s1"])
        batches.batch_release(actor=w.users[Role.DISTRICT_STAFF], batch=batch)
        BankLayout.objects.all().delete()  # the bank takes the default layout (with 业务编号 and 金额)
    return live_server.url, w, batch


def test_the_district_exports_the_roster_and_imports_the_return(released, tmp_path):
    site, w, batch = released
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        log_in(page, site, w.users[Role.DISTRICT_STAFF].username, PASSWORD)
        page.goto(f"{site}/disbursements/{batch.pk}/")
        assert page.get_attribute("[data-testid=batch-status]", "data-status") == "RELEASED"
        # The roster link, fetched with the browser's own session (headless chromium does not hand
        # over "download" events reliably here; the request is the same one the click makes).
        href = page.get_attribute("[data-testid=roster-xlsx]", "href")
        response = page.request.get(f"{site}{href}")
        assert response.status == 200
        assert "attachment" in response.headers["content-disposition"]
        roster_path = tmp_path / "roster.xlsx"
        roster_path.write_bytes(response.body())
        sheet = openpyxl.load_workbook(roster_path, read_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        header, lines = rows[0], rows[1:]
        assert len(lines) == 4
        ref, account, amount = header.index("业务编号"), header.index("账号"), header.index("金额")
        # The bank pays three and refuses one.
        csv_lines = ["业务编号,账号,金额,状态,错误代码,失败原因"]
        for i, line in enumerate(lines):
            status, code, why = ("失败", "E01", "卡未激活") if i == 0 else ("成功", "", "")
            csv_lines.append(f"{line[ref]},{line[account]},{line[amount]},{status},{code},{why}")
        return_path = tmp_path / "回盘.csv"
        return_path.write_bytes("\n".join(csv_lines).encode("gb18030"))
        page.set_input_files("[data-testid=return] input[type=file]", str(return_path))
        with page.expect_navigation():
            page.click("[data-testid=return] button[type=submit]")
        assert page.get_attribute("[data-testid=batch-status]", "data-status") == "CLOSED"
        assert "回盘.csv" in page.inner_text("[data-testid=returns]")
        assert "卡未激活" in page.inner_text("main")
