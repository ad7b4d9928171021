"""In a real browser at a phone's size (390×844): the school's officer reviews and submits the weekly
return (a double tap files one), the district reads its week and the statistics table and downloads
the xlsx; no page scrolls sideways."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from care.models import WeeklyReturn, WeeklyReturnStatus
from core.tenancy.context import tenant_transaction
from schools.permissions import Role
from tests.browser import chromium, download, live_today, log_in, messages_text
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WEEK = dt.date(2026, 10, 12)


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_the_officer_submits_from_a_phone_and_the_district_reads_the_week(world, live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    live_today(monkeypatch, dt.date(2026, 10, 16))  # Friday: the week's deadline
    w = world.a
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
        page = context.new_page()
        log_in(page, live_server.url, w.users[Role.SCHOOL_OFFICER].username, PASSWORD)
        page.goto(f"{live_server.url}/care/weekly/")  # one school: straight to its return
        assert page.inner_text("[data-testid=suspected]") == "3"
        assert _no_sideways_scroll(page)
        # A double tap. The second tap may beat the button's disabling on a loaded machine and send the
        # form again, which aborts the first page load: wait for the page that answers last, not for the
        # first navigation. Either way the district must count one return (below).
        page.dblclick("[data-testid=return-submit]")
        page.wait_for_selector("[data-testid=return-submitted]")
        assert "已提交" in messages_text(page) or "未重复提交" in messages_text(page)
        assert _no_sideways_scroll(page)
        context.close()

        context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
        page = context.new_page()
        log_in(page, live_server.url, w.users[Role.DISTRICT_STAFF].username, PASSWORD)
        page.goto(f"{live_server.url}/care/weekly/?week={WEEK.isoformat()}")
        assert page.inner_text("[data-testid=count-submitted]") == "1"
        assert page.inner_text("[data-testid=count-pending]") == "1"
        assert _no_sideways_scroll(page)
        page.goto(f"{live_server.url}/care/weekly/summary/?period=2026-10")
        assert page.locator("[data-testid=summary-table]").count() == 3
        assert _no_sideways_scroll(page)
        book = openpyxl.load_workbook(io.BytesIO(download(page, live_server.url, "[data-testid=summary-xlsx]")))
        assert [ws.title for ws in book.worksheets] == ["按学校", "按乡镇", "按学段"]
        context.close()
    with tenant_transaction(w.tenant.pk):
        filed = WeeklyReturn.objects.filter(school=w.schools["s1"], week_start=WEEK)
        assert [(r.status, r.suspected) for r in filed] == [(WeeklyReturnStatus.SUBMITTED, 3)]
