"""Lists on a phone (390 px), in a real browser: the filter bar, the status tabs, the table and the pager
fit the screen (a wide table scrolls inside its card, the tabs scroll sideways), a filter's select
sends the bar at once and the filter lives in the URL, so the back button returns to the list before."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from demo import seed as demo
from tests.browser import chromium, demo_site_for_module, log_in

pytestmark = [pytest.mark.browser]  # no database mark: the module's seeded demo is shared (demo_site)

FITS = "() => ({scroll: document.documentElement.scrollWidth, width: window.innerWidth})"


@pytest.fixture(scope="module")
def demo_site(django_db_setup, django_db_blocker):
    # The tests only read (and sign in): one small demo for the whole module.
    with demo_site_for_module(django_db_blocker, scale=0.02) as url:
        yield url


@pytest.mark.parametrize("path", ["/students/", "/care/cases/"])
def test_a_list_fits_a_phone_and_keeps_its_filters_in_the_url(demo_site, path, tmp_path):
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
        context.set_default_timeout(10_000)
        page = context.new_page()
        log_in(page, demo_site, "a.district", demo.DEMO_PASSWORD)
        page.goto(demo_site + path)
        assert page.locator("[data-testid=list-filters]").is_visible()
        size = page.evaluate(FITS)
        assert size["scroll"] <= size["width"], (path, size)
        page.screenshot(path=str(tmp_path / "list.png"), full_page=True)

        # Choosing a school sends the bar (no button press): the filter is in the URL.
        school = page.locator("[data-testid=list-filters] select[name=school] option").nth(1)
        value = school.get_attribute("value")
        with page.expect_navigation():
            page.select_option("[data-testid=list-filters] select[name=school]", value)
        assert parse_qs(urlsplit(page.url).query).get("school") == [value]
        size = page.evaluate(FITS)
        assert size["scroll"] <= size["width"], (path, "filtered", size)

        # A tab keeps the school; the back button returns to the school alone.
        tab = page.locator("[data-testid=list-tabs] a.nav-link").nth(1)
        with page.expect_navigation():
            tab.click()
        query = parse_qs(urlsplit(page.url).query)
        assert query.get("school") == [value]
        assert query.get("status")
        page.go_back()
        assert parse_qs(urlsplit(page.url).query) == {"school": [value]}
        assert page.locator("[data-testid=list-filters] select[name=school]").input_value() == value
