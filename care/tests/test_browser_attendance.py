"""In a real browser at a phone's size (390×844): a class teacher records the class's absences in one
submit, then a home visit on the case it opened; no page scrolls sideways."""

from __future__ import annotations

import pytest

from care.models import CaseStatus, CaseStep, DropoutCase, StepKind
from core.tenancy.context import tenant_transaction
from schools.permissions import Role
from tests.browser import chromium, log_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = "2026-10-12"  # a Monday, a school day


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_a_teacher_records_the_class_and_a_home_visit_from_a_phone(world, live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    w = world.a
    teacher = w.users[Role.CLASS_TEACHER]
    absent = w.students["c1"][1]
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
        page = context.new_page()
        log_in(page, live_server.url, teacher.username, PASSWORD)
        page.goto(f"{live_server.url}/care/attendance/")  # one class: straight to its sheet
        page.goto(f"{page.url}?date={DAY}")
        assert page.locator("[data-testid=pupil-row]").count() == len(w.students["c1"])
        assert _no_sideways_scroll(page)
        page.click(f"label[for=UNEXPLAINED-{absent.pk}]")
        with page.expect_navigation():
            page.click("[data-testid=attendance-form] button[type=submit]")
        # The factory already recorded c1's first pupil absent that day: the sheet showed it, the submit kept it.
        assert "缺勤2人，新增个案1个" in page.inner_text(".alert-success")
        assert _no_sideways_scroll(page)

        with tenant_transaction(w.tenant.pk):
            case = DropoutCase.objects.get(student=absent)
        assert case.status == CaseStatus.ABSENT
        page.goto(f"{live_server.url}/care/cases/{case.pk}/")
        assert _no_sideways_scroll(page)
        page.select_option("[data-testid=step-form] select[name=kind]", StepKind.HOME_VISIT)
        page.fill("[data-testid=step-form] textarea[name=notes]", "见到母亲，孩子发烧在家，明天返校")
        with page.expect_navigation():
            page.click("[data-testid=step-form] button")
        assert "见到母亲" in page.inner_text("main")
        assert _no_sideways_scroll(page)
        context.close()
    with tenant_transaction(w.tenant.pk):
        assert CaseStep.objects.filter(case=case, kind=StepKind.HOME_VISIT, actor=teacher).exists()
