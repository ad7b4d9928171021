"""Playwright driving Debian's chromium (never a downloaded browser)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.factories import CHROMIUM

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

#: axe-core, from its npm package (tests/vendor/axe-core, no CDN): put into a page by a test.
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"

#: axe's rules for WCAG 2.x A and AA; only serious and critical findings fail the test.
RUN_AXE = """async () => {
  const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")})`);
}"""


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def demo_site_for_module(django_db_blocker, *, scale: float) -> Iterator[str]:
    """The demo seeded once and served by a live server for a whole test module, emptied after it.

    pytest-django's `live_server` makes every test transactional: the tables are emptied after each
    test, so each test seeded the demo again (a quarter-scale demo takes most of a read-only browser
    test's time). The modules that only read (layout, axe, menus, lists) share one seed instead: a
    module-scoped fixture holds the database open for them (their tests carry no `django_db` mark) and
    empties it with Django's own flush when the module ends, as a transactional test would.
    """
    from django.core.management import call_command
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop shares this thread with the ORM
        server = None
        try:
            call_command("seed_demo", scale=scale, stdout=io.StringIO())
            server = LiveServer("localhost")
            server._live_server_modified_settings.enable()  # ALLOWED_HOSTS, as pytest-django does per test
            yield server.url
        finally:
            if server is not None:
                server._live_server_modified_settings.disable()
                server.stop()
            call_command("flush", interactive=False, verbosity=0, reset_sequences=False)


def log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


@contextmanager
def shared_chromium() -> Iterator[Browser]:
    """One browser for a whole test module (a module-scoped fixture wraps it). Playwright's sync API
    keeps an event loop in this thread for as long as the browser lives, so the ORM calls the tests
    make between pages (and the database flush after each test) need Django's async-safety check off
    for that long, not only during one test."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with chromium() as browser:
            yield browser


def signed_in(browser: Browser, base_url: str, username: str, password: str) -> Page:
    """A page of a fresh browser context (its own cookies: one person) signed in as `username`."""
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(10_000)  # a page of this product answers in well under a second
    page = context.new_page()
    log_in(page, base_url, username, password)
    assert "/accounts/login/" not in page.url, f"{username} could not sign in"
    return page


def live_today(monkeypatch, day: dt.date) -> None:
    """Let the live server's `core.clock.today()` answer `day` (days pass between two steps of a
    workflow). `clock.frozen_at` cannot reach it: its context variable is per thread, and the live
    server answers in threads of its own."""
    from core import clock

    monkeypatch.setattr(clock, "today", lambda: day)


def submit(page: Page, selector: str) -> None:
    """Click a submit button and wait for the page the form leads to."""
    with page.expect_navigation():
        page.click(selector)


def messages_text(page: Page) -> str:
    """The flash messages the page shows (success, info, warning, error)."""
    return " ".join(page.locator(".alert").all_inner_texts())


def download(page: Page, base_url: str, selector: str) -> bytes:
    """The file a link offers, fetched with the browser's own session (headless chromium does not hand
    over "download" events reliably; the request is the one the click makes)."""
    href = page.get_attribute(selector, "href")
    response = page.request.get(href if href.startswith("http") else f"{base_url}{href}")
    assert response.status == 200, (href, response.status)
    assert "attachment" in response.headers["content-disposition"], href
    return response.body()
