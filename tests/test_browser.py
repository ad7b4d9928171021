"""In a real browser: every demo role logs in and lands on its own home page."""

from __future__ import annotations

import pytest

from demo import seed as demo
from tests.browser import chromium, demo_site_for_module, log_in

pytestmark = [pytest.mark.browser]  # no database mark: the module's seeded demo is shared (demo_site)

#: What each demo account's home page shows: its role (as the page names it) and a section only it has.
HOME = {
    "a.teacher": ("班主任", "[data-testid=units]", "2024级 1班"),
    "a.grade": ("年级组长", "[data-testid=units]", None),
    "a.officer": ("学校资助专干", "[data-testid=units]", None),
    "a.principal": ("校长", "[data-testid=units]", None),
    "a.district": ("区县学生资助管理中心", "[data-testid=units]", "甲县实验小学"),
    "a.auditor": ("审计", "[data-testid=units]", None),
    "a.admin": ("管理员", "[data-testid=work]", None),
    "b.teacher": ("班主任", "[data-testid=units]", None),
    "platform": ("平台运维", "[data-testid=tenants]", "demo-b"),
}


@pytest.fixture(scope="module")
def demo_site(django_db_setup, django_db_blocker):
    # The tests only read (and sign in): one small demo for the whole module.
    with demo_site_for_module(django_db_blocker, scale=0.02) as url:
        yield url


def test_every_demo_role_logs_in_and_sees_its_home_page(demo_site):
    with chromium() as browser:
        for username, (role_label, section, text) in HOME.items():
            context = browser.new_context(locale="zh-CN")
            page = context.new_page()
            log_in(page, demo_site, username, demo.DEMO_PASSWORD)
            assert page.url.rstrip("/") == demo_site, (username, page.url)
            whoami = page.inner_text("[data-testid=whoami]")
            assert username in whoami
            roles = page.inner_text("[data-testid=roles]")
            assert role_label in roles, (username, roles)
            assert page.locator(section).count() == 1, (username, section)
            if text:
                assert text in page.inner_text("main"), (username, text)
            context.close()


def test_a_wrong_password_is_refused_with_a_message(demo_site):
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        log_in(page, demo_site, "a.teacher", "wrong-password")
        assert "/accounts/login/" in page.url
        assert page.locator(".alert-danger").count() == 1


def test_the_district_reveals_a_full_id_number_and_switches_to_english(demo_site):
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        log_in(page, demo_site, "a.district", demo.DEMO_PASSWORD)
        page.goto(f"{demo_site}/students/")
        page.locator("table tbody a").first.click()
        masked = page.inner_text("#id-number")
        assert "**********" in masked
        page.click("[data-testid=reveal]")
        page.wait_for_selector("[data-testid=revealed]")
        full = page.inner_text("[data-testid=revealed]")
        assert "*" not in full
        assert len(full) == 18
        assert full[:4] == masked[:4]
        assert full[-4:] == masked[-4:]
        with page.expect_navigation():
            page.select_option("select[name=language]", "en")
        assert "Students" in page.inner_text("nav")
