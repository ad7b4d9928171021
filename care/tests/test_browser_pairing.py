"""In a real browser at a phone's size (390×844): the paired teacher opens their pupils, records a home
visit; a visit dated in the future is refused with the reason and records nothing; no page scrolls
sideways."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from core.tenancy.context import tenant_transaction
from schools.permissions import Role
from students.models import HomeVisit, VisitPurpose
from tests.browser import chromium, log_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_a_paired_teacher_records_a_home_visit_from_a_phone(world, live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    w = world.a
    teacher = w.users[Role.CLASS_TEACHER]
    pupil = w.pairings["c2"].student
    today = clock.today()
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
        page = context.new_page()
        log_in(page, live_server.url, teacher.username, PASSWORD)
        page.goto(f"{live_server.url}/care/my-pupils/")
        assert page.locator("[data-testid=paired-row]").count() == len(w.pairings)
        assert _no_sideways_scroll(page)
        page.locator("[data-testid=paired-row]", has_text=pupil.name).locator("[data-testid=visit-link]").click()
        page.wait_for_selector("[data-testid=visit-form]")
        assert _no_sideways_scroll(page)

        # A date in the future: refused, said why, what was typed is kept.
        page.fill("input[name=visited_on]", (today + dt.timedelta(days=2)).isoformat())
        page.fill("input[name=met]", "祖母")
        page.fill("textarea[name=situation]", "父母在外务工，祖母照看")
        with page.expect_navigation():
            page.click("[data-testid=visit-form] button[type=submit]")
        assert "不能是将来的日期" in page.inner_text("[data-testid=visit-errors]")
        assert page.input_value("input[name=met]") == "祖母"
        assert _no_sideways_scroll(page)
        with tenant_transaction(w.tenant.pk):
            assert not HomeVisit.objects.filter(student=pupil, purpose=VisitPurpose.PAIRING).exists()

        page.fill("input[name=visited_on]", today.isoformat())
        page.fill("textarea[name=needs]", "冬衣")
        with page.expect_navigation():
            page.click("[data-testid=visit-form] button[type=submit]")
        assert pupil.name in page.inner_text(".alert-success")
        assert page.url.endswith("/care/my-pupils/")
        assert _no_sideways_scroll(page)
        context.close()
    with tenant_transaction(w.tenant.pk):
        visit = HomeVisit.objects.get(student=pupil, purpose=VisitPurpose.PAIRING)
        assert (visit.visitor_id, visit.met, visit.needs, visit.visited_on) == (teacher.pk, "祖母", "冬衣", today)
