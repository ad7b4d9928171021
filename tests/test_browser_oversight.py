"""In a real browser: the district's dashboard draws its charts (ECharts, from the page's JSON data
island, no inline script) and each chart's table, shown by its button, holds the same numbers; on a
phone nothing is wider than the screen."""

from __future__ import annotations

import json

import pytest

from core.tenancy.context import tenant_transaction
from schools.permissions import Role
from tests.browser import chromium, log_in
from tests.factories import PASSWORD, build_world, make_semester
from tests.money import approved_list, identify

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def district(live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    w = build_world().a
    with tenant_transaction(w.tenant.pk):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in [*w.students["c1"], *w.students["c2"]]:
            identify(w, pupil)
        approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
    return live_server.url, w, semester


def test_the_dashboard_draws_its_charts_and_the_table_view_matches(district):
    site, w, semester = district
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        log_in(page, site, w.users[Role.DISTRICT_STAFF].username, PASSWORD)
        page.goto(f"{site}/oversight/dashboard/?semester={semester.pk}")
        page.wait_for_selector("[data-chart-canvas='money_by_program'][data-drawn='1'] canvas")
        data = json.loads(page.text_content("#oversight-data"))
        drawn = page.locator("[data-chart-canvas][data-drawn='1'] canvas").count()
        assert drawn == sum(1 for c in data["charts"] if c["rows"]) > 5
        assert not errors, errors  # no CSP-style inline script was needed, nothing failed

        # The table view of a chart: hidden at first, shown by its button (the chart hides), same numbers.
        table = page.locator("[data-testid='table-money_by_program']")
        assert not table.is_visible()
        page.click("[data-testid='toggle-money_by_program']")
        assert table.is_visible()
        assert not page.locator("[data-chart-canvas='money_by_program']").is_visible()
        cells = [[c.strip() for c in row] for row in table.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))"
        )]  # fmt: skip
        chart = next(c for c in data["charts"] if c["key"] == "money_by_program")
        assert cells == [[str(v) for v in row] for row in chart["rows"]]
        assert any(row[2] != "0.00" for row in cells)  # the approved money is there

        # The chart's own figures, as ECharts holds them, are the table's.
        series = page.evaluate(
            "() => echarts.getInstanceByDom(document.querySelector(\"[data-chart-canvas='money_by_program']\"))"
            ".getOption().series.map(s => s.data)"
        )
        assert series == [[float(row[i]) for row in chart["rows"]] for i in range(1, len(chart["headers"]))]

        # A phone: nothing wider than the screen.
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        page.wait_for_selector("[data-chart-canvas][data-drawn='1'] canvas")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, width
