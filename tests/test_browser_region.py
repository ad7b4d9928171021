"""In a real browser: a city's oversight account (市/省) signs in, lands on its region's page, which draws
its charts (ECharts, from the page's JSON data island) and each chart's table, shown by its button,
holds the same numbers: its own districts' figures, no other city's district, no pupil."""

from __future__ import annotations

import json

import pytest

from oversight.region.services import district_figures_rebuild
from schools import services as school_services
from tests.browser import chromium, log_in
from tests.factories import PASSWORD, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city(live_server, monkeypatch):
    """City 甲市 holding district A (its world has an approved, paid award); B belongs to no city."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    world = build_world()
    region = school_services.region_create(code="410600", name="甲市")
    school_services.tenant_region_set(tenant=world.a.tenant, region=region)
    account = school_services.region_account_create(region=region, username="city", password=PASSWORD, validate=False)
    district_figures_rebuild()
    return live_server.url, world, account


def test_the_region_page_draws_its_charts_and_the_table_view_matches(city):
    site, world, account = city
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        log_in(page, site, account.username, PASSWORD)
        assert page.url.endswith("/oversight/region/")  # its home page is the region's page
        page.wait_for_selector("[data-chart-canvas='region_district_programs'][data-drawn='1'] canvas")
        data = json.loads(page.text_content("#oversight-data"))
        drawn = page.locator("[data-chart-canvas][data-drawn='1'] canvas").count()
        assert drawn == sum(1 for c in data["charts"] if c["rows"]) == 5
        assert not errors, errors
        # The side menu holds the region's entry and nothing else (beside the home page, which leads here).
        entries = page.locator("[data-testid='side-menu'] a.nav-link").evaluate_all(
            "links => links.map(a => a.dataset.testid)"
        )
        assert entries == ["menu-home", "menu-oversight-region"]
        assert page.locator("[data-testid='region-semester'] option").count() == 1

        # The table view of the district × program chart: shown by its button, the same numbers.
        table = page.locator("[data-testid='table-region_district_programs']")
        assert not table.is_visible()
        page.click("[data-testid='toggle-region_district_programs']")
        assert table.is_visible()
        cells = [[c.strip() for c in row] for row in table.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))"
        )]  # fmt: skip
        chart = next(c for c in data["charts"] if c["key"] == "region_district_programs")
        assert cells == [[str(v) for v in row] for row in chart["rows"]]
        assert cells[0][0].startswith(world.a.tenant.name)
        assert cells[0][1] == "250.00"  # the world's approved award
        series = page.evaluate(
            "() => echarts.getInstanceByDom(document.querySelector(\"[data-chart-canvas='region_district_programs']\"))"
            ".getOption().series.map(s => s.data)"
        )
        assert series == [[float(row[i]) for row in chart["rows"]] for i in range(1, len(chart["headers"]))]

        text = page.inner_text("body")
        assert world.b.tenant.name not in text
        assert not [s.name for s in world.a.all_students if s.name in text]
