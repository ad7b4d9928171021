"""In a real browser, at a laptop's widths (1280 and 1440 px) and a phone's (390 px), in Chinese and in English:
every main page of every demo role fits the window (no sideways scrolling of the page: wide tables
scroll inside their wrapper), the top bar's labels never wrap and its account and language menus stay
on screen (the menu button at the start of the bar on a phone), and no table header is squeezed to a
character a line."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from demo import seed as demo
from tests.browser import chromium, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ("a.district", "a.officer", "a.teacher", "a.grade", "a.principal", "a.auditor", "a.admin", "platform")
WIDTHS = (1280, 1440, 390)
LANGUAGES = ("zh-hans", "en")
#: Not our pages: Django's admin and the API's Swagger UI have layouts of their own.
FOREIGN = ("/admin/", "/api/")

#: Per page: what overflows the window, which table headers are taller than three lines, and (wide
#: screens) which top-bar labels wrapped and whether the account and language menus are in view.
MEASURE = """() => {
  const width = window.innerWidth;
  const lines = (el) => {
    const cs = getComputedStyle(el);
    const inner = el.getBoundingClientRect().height - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
    return inner / parseFloat(cs.lineHeight);
  };
  const inView = (sel) => {
    const el = document.querySelector(sel);
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.left >= 0 && r.right <= width;
  };
  return {
    scrollWidth: document.scrollingElement.scrollWidth,
    width: width,
    squeezed: [...document.querySelectorAll("main th")]
      .filter((th) => th.getBoundingClientRect().height > 0 && lines(th) > 3.2)
      .map((th) => th.innerText),
    wrapped: [...document.querySelectorAll(".app-bar .nav-link, .app-bar .navbar-brand, .app-menu .nav-link")]
      .filter((a) => a.getBoundingClientRect().height > 0 && lines(a) > 1.5)
      .map((a) => a.innerText),
    language: inView(".app-bar select[name=language]"),
    account: inView("[data-testid=account-menu]"),
    toggler: inView(".app-bar .navbar-toggler"),
    togglerLeft: document.querySelector(".app-bar .navbar-toggler")?.getBoundingClientRect().left ?? -1,
  };
}"""


@pytest.fixture
def demo_site(live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # Large enough for the demo's story (applications, lists, batches, corrections): wide tables with rows.
    call_command("seed_demo", scale=0.25, stdout=io.StringIO())
    return live_server.url


def _main_pages(page, base_url: str) -> list[str]:
    """The role's own pages: every link of its side menu, and the first detail page each list links to."""
    links = page.eval_on_selector_all(
        "[data-testid=side-menu] a.nav-link", "els => els.map(a => a.getAttribute('href'))"
    )
    pages = [href for href in links if not href.startswith(FOREIGN)]
    details = []
    for href in pages:
        page.goto(base_url + href)
        first = page.eval_on_selector_all(
            "main table a[href^='/']", "els => els.slice(0, 1).map(a => a.getAttribute('href'))"
        )
        details += [d for d in first if not d.startswith(FOREIGN) and d not in pages and d not in details]
    return pages + details


def test_every_main_page_fits_the_window_in_both_languages_on_a_laptop_and_a_phone(demo_site):
    problems = []
    checked = 0
    with chromium() as browser:
        for username in ROLES:
            for language in LANGUAGES:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.add_cookies([{"name": "django_language", "value": language, "url": demo_site}])
                page = context.new_page()
                log_in(page, demo_site, username, demo.DEMO_PASSWORD)
                pages = _main_pages(page, demo_site)
                assert pages, username
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 900})
                    for path in pages:
                        response = page.goto(demo_site + path)
                        assert response.status == 200, (username, path, response.status)
                        m = page.evaluate(MEASURE)
                        checked += 1
                        where = f"{username} {language} {width}px {path}"
                        if m["scrollWidth"] > m["width"]:
                            problems.append(f"{where}: the page is {m['scrollWidth']} px wide")
                        if m["squeezed"]:
                            problems.append(f"{where}: headers squeezed to more than three lines: {m['squeezed']}")
                        if m["wrapped"]:
                            problems.append(f"{where}: top-bar labels wrapped: {m['wrapped']}")
                        if not m["language"]:
                            problems.append(f"{where}: the language menu is off screen")
                        if not m["account"]:
                            problems.append(f"{where}: the account menu is off screen")
                        if width < 992 and not m["toggler"]:
                            problems.append(f"{where}: the menu button is off screen")
                        if width < 992 and m["togglerLeft"] > 24:
                            problems.append(f"{where}: the menu button is not at the start of the bar")
                context.close()
    assert checked > len(ROLES) * len(LANGUAGES) * len(WIDTHS) * 3
    assert not problems, "\n".join(problems)


def test_the_account_menu_opens_and_logs_out_at_both_widths(demo_site):
    with chromium() as browser:
        for width in WIDTHS:
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            log_in(page, demo_site, "a.district", demo.DEMO_PASSWORD)
            page.click("[data-testid=account-menu]")  # in the top bar at every width (no menu button first)
            assert "a.district" in page.inner_text("[data-testid=whoami]")
            assert "甲县学生资助管理中心" in page.inner_text("[data-testid=whoami-detail]")
            with page.expect_navigation():
                page.click("[data-testid=logout]")
            page.goto(demo_site + "/")
            assert "/accounts/login/" in page.url
            context.close()
