"""Every page a role reaches from its menu, and the main forms, in a real browser (issue 25, "done
means"): for the teacher, the school officer, the principal, the district center and the auditor, at
1280, 1440 and 390 px nothing is wider than the window; axe-core (vendored, tests/vendor/axe-core) finds
no serious or critical violation on those pages (the lists) and on the main forms: nomination, review
decision, batch build, correction, roster upload, care absence and case, home visit."""

from __future__ import annotations

import io
import re
import warnings

import pytest
from django.core.management import call_command

from demo import seed as demo
from tests.browser import chromium, log_in
from tests.test_browser_home import AXE, RUN_AXE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ("a.teacher", "a.officer", "a.principal", "a.district", "a.auditor")
WIDTHS = (1280, 1440, 390)
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

#: The main forms, found from a page the role reaches: (where to look, the link's path pattern).
FORMS = {
    "a.teacher": [
        ("/students/", rf"^/students/{UUID}/$"),  # the pupil's file
        ("^", rf"^/students/{UUID}/nominate/$"),  # its nomination form ("^": on the page found just before)
        ("/care/attendance/", rf"^/care/attendance/{UUID}/"),  # today's absences of the class
        ("/care/cases/", rf"^/care/cases/{UUID}/$"),  # a case and its steps
        ("/care/my-pupils/", rf"^/care/my-pupils/{UUID}/visit/$"),  # a home visit
    ],
    "a.officer": [
        ("/students/applications/?status=", rf"^/students/applications/{UUID}/$"),  # the review decision
    ],
    "a.district": [
        ("/disbursements/", rf"^/disbursements/{UUID}/$"),  # a batch: confirm, release, the bank's return
        ("/students/applications/?status=", rf"^/students/applications/{UUID}/$"),
    ],
}
#: Forms on the menu's own pages (checked with them): the roster upload (/students/roster/), the batch
#: build (/disbursements/), the correction's decision (/disbursements/corrections/).


#: Violations found by this walk and accepted for now, as (page, rule). None: the dashboard's chart
#: toggles and the budgets' outline-warning button had too little contrast until app.css darkened them.
KNOWN: set[tuple[str, str]] = set()


@pytest.fixture
def demo_site(live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    call_command("seed_demo", scale=0.25, stdout=io.StringIO())  # as the home pages: cases, batches
    return live_server.url


def _menu_links(page) -> list[str]:
    hrefs = page.eval_on_selector_all(
        "[data-testid=side-menu] a.nav-link", "els => els.map(a => a.getAttribute('href'))"
    )
    return [h for h in dict.fromkeys(hrefs) if h and h.startswith("/") and not h.startswith("/admin/")]


def _first_link(page, site: str, where: str, pattern: str) -> str | None:
    page.goto(site + where)
    here = page.url[len(site) :]
    if re.match(pattern, here.split("?")[0]):
        return here  # the page went straight there (a teacher of one class: today's absences)
    for href in page.eval_on_selector_all("main a[href^='/']", "els => els.map(a => a.getAttribute('href'))"):
        if re.match(pattern, href.split("?")[0]):
            return href
    return None


@pytest.mark.parametrize("username", ROLES)
def test_every_menu_page_and_main_form_fits_and_passes_axe(demo_site, username):
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", bypass_csp=True)
        context.set_default_timeout(15_000)
        page = context.new_page()
        log_in(page, demo_site, username, demo.DEMO_PASSWORD)
        pages = _menu_links(page)
        assert pages, username
        forms: list[str] = []
        missing: list[str] = []
        for where, pattern in FORMS.get(username, []):
            href = _first_link(page, demo_site, forms[-1] if where == "^" and forms else where, pattern)
            if href is None:
                missing.append(f"{username}: no link like {pattern} on {where}")  # the demo has none
            else:
                forms.append(href)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for href in pages + forms:
                response = page.goto(demo_site + href)
                if response.status != 200:
                    problems.append(f"{username} {width}px {href}: answers {response.status}")
                    continue
                scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
                if scroll > inner:
                    problems.append(f"{username} {width}px {href}: {scroll} px wide")
                if width != 1440:  # axe at the laptop's and the phone's width; 1440 lays out like 1280
                    page.add_script_tag(path=str(AXE))
                    problems += [
                        f"{username} {width}px {href}: {v}"
                        for v in page.evaluate(RUN_AXE)
                        if (href.split("?")[0], v.split()[1].rstrip(":")) not in KNOWN
                    ]
        context.close()
    if missing:
        warnings.warn("; ".join(missing), stacklevel=1)  # a form the demo gives no link to is not checked
    assert not problems, "\n".join(problems)
