"""In a real browser with the door on (issue 23, "done means"): the district center signs in with a
password and a TOTP code computed here; the auditor enrols an authenticator through the page with the
QR code; both, a teacher and the tenant administrator then walk their main pages (every side-menu entry
and the first detail page each list links to, the account pages, the API reference) and the browser
reports no Content-Security-Policy violation (neither a `securitypolicyviolation` event nor a console
message)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo import seed as demo
from schools.models import User
from tests.browser import chromium, log_in
from tests.door import door_on, enrolled, totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Records every CSP violation of the page, before any of its own scripts run.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " @" + location.pathname);
});
"""
EXTRA_PAGES = ["/accounts/security/", "/accounts/password/"]


@pytest.fixture
def door(settings, db):
    yield from door_on(settings)


@pytest.fixture
def demo_site(live_server, monkeypatch, door):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    call_command("seed_demo", scale=0.05, stdout=io.StringIO())
    return live_server.url


def _visit(page, base_url: str, path: str, who: str, violations: list[str]) -> None:
    response = page.goto(base_url + path)
    assert response.status == 200, (who, path, response.status)
    page.wait_for_load_state("networkidle")
    violations += [f"{who}: {v}" for v in page.evaluate("window.__csp")]


def _new_page(browser, console: list[str]):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15_000)
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    return page


def _walk(page, base_url: str, who: str, violations: list[str]) -> int:
    """Every side-menu entry, then the first detail page each of them links to, the account pages (and
    the API reference for the district): each page visited once."""
    links = page.eval_on_selector_all(
        "[data-testid=side-menu] a.nav-link", "els => els.map(a => a.getAttribute('href'))"
    )
    pages = [href for href in links if not href.startswith("/admin/")]
    details: list[str] = []
    for href in pages:
        _visit(page, base_url, href, who, violations)
        first = page.eval_on_selector_all(
            "main table a[href^='/']", "els => els.slice(0, 1).map(a => a.getAttribute('href'))"
        )
        details += [d for d in first if not d.startswith(("/admin/", "/api/")) and d not in pages + details]
    rest = details + EXTRA_PAGES + (["/api/docs/"] if who == "a.district" else [])
    for path in rest:
        _visit(page, base_url, path, who, violations)
    return len(pages) + len(rest)


def test_sign_in_with_a_totp_code_and_walk_the_main_pages_with_no_csp_violation(demo_site):
    district = User.objects.get(username="a.district")
    device = enrolled(district)
    violations: list[str] = []
    console: list[str] = []
    walked = 0
    with chromium() as browser:
        # The district center: password, then the code of its authenticator.
        page = _new_page(browser, console)
        log_in(page, demo_site, "a.district", demo.DEMO_PASSWORD)
        assert "/accounts/two-factor/" in page.url
        page.fill("#id_code", totp_now(device))
        with page.expect_navigation():
            page.click("[data-testid=otp-verify] button[type=submit]")
        assert page.url.rstrip("/") == demo_site, page.url
        violations += page.evaluate("window.__csp")
        walked += _walk(page, demo_site, "a.district", violations)

        # The auditor has no authenticator yet: only the enrolment page, with the QR code drawn here.
        page = _new_page(browser, console)
        log_in(page, demo_site, "a.auditor", demo.DEMO_PASSWORD)
        assert "/accounts/two-factor/enrol/" in page.url
        assert page.locator("[data-testid=otp-qr] svg").is_visible()
        violations += page.evaluate("window.__csp")
        pending = TOTPDevice.objects.get(user__username="a.auditor", confirmed=False)
        page.fill("#id_code", totp_now(pending))
        with page.expect_navigation():
            page.click("[data-testid=otp-enrol] button[type=submit]")
        assert page.locator("[data-testid=recovery-codes] li").count() == 10
        violations += page.evaluate("window.__csp")
        with page.expect_navigation():
            page.click("[data-testid=continue]")
        walked += _walk(page, demo_site, "a.auditor", violations)

        # A teacher signs in with the password alone; the administrator passes its own code.
        page = _new_page(browser, console)
        log_in(page, demo_site, "a.teacher", demo.DEMO_PASSWORD)
        walked += _walk(page, demo_site, "a.teacher", violations)
        admin_device = enrolled(User.objects.get(username="a.admin"))
        page = _new_page(browser, console)
        log_in(page, demo_site, "a.admin", demo.DEMO_PASSWORD)
        page.fill("#id_code", totp_now(admin_device))
        with page.expect_navigation():
            page.click("[data-testid=otp-verify] button[type=submit]")
        walked += _walk(page, demo_site, "a.admin", violations)
    assert walked > 20
    assert not violations, "\n".join(violations)
    assert not console, "\n".join(console)
