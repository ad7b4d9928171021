"""No inline script, event handler or style attribute (issue 23, item 5): the Content-Security-Policy
allows none (no 'unsafe-inline'). Every template file is read, and the main pages of every role are
rendered (each side-menu entry, the account and door pages) and searched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from config import menu
from schools.permissions import Role
from tests.door import door_on

pytestmark = pytest.mark.django_db

#: An inline handler (onclick=, onsubmit=, …), a <script> without src, a <style> element, a style attribute.
#: A data island (`<script type="application/json">`, Django's json_script) is data, not script: the
#: browser never runs it and the policy does not refuse it.
INLINE = {
    "handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "script": re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*\stype=\"application/json\")[^>]*>", re.IGNORECASE),
    "style element": re.compile(r"<style[\s>]", re.IGNORECASE),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
}
TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates"]


@pytest.fixture
def door(settings, db):
    yield from door_on(settings)


def _inline(html: str) -> list[str]:
    return [f"{kind}: {m.group(0)[:120]}" for kind, rx in INLINE.items() for m in rx.finditer(html)]


def test_the_patterns_find_what_the_policy_refuses():
    assert _inline('<button class="x" onclick="print()">')
    assert _inline("<script>alert(1)</script>")
    assert _inline('<div class="a" style="width: 3px">')
    assert _inline("<style>p{}</style>")
    assert not _inline('<script src="/static/js/app.js" defer></script><div data-percent="5" class="onion">')
    assert not _inline('<script id="oversight-data" type="application/json">{"a": 1}</script>')
    assert _inline('<script id="x" type="text/javascript">alert(1)</script>')


def test_no_template_writes_inline_script_handler_or_style():
    found = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            found += [f"{path.relative_to(settings.BASE_DIR)}: {x}" for x in _inline(path.read_text())]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("role", list(Role))
def test_the_main_pages_of_every_role_have_no_inline_script_handler_or_style(world, tenant_of, role):
    user = world.a.users[role]
    client = Client()
    client.force_login(user)
    paths = ["/", "/accounts/security/", "/accounts/password/", "/accounts/two-factor/enrol/"]
    with tenant_of(world.a.tenant):
        for group in menu.menu_for(user, work=None):
            paths += [entry.url for entry in group.entries if not entry.url.startswith("/admin/")]
    found = []
    for path in paths:
        response = client.get(path, follow=True)  # a menu entry may lead to the page of one's class
        assert response.status_code == 200, (role, path, response.status_code)
        found += [f"{path}: {x}" for x in _inline(response.content.decode())]
        assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert len(paths) > 4
    assert not found, "\n".join(found)


def test_the_door_pages_have_no_inline_script_handler_or_style(world, door):
    client = Client()
    client.force_login(world.a.users[Role.DISTRICT_STAFF])
    found = []
    for path in ["/accounts/two-factor/enrol/", "/accounts/login/"]:
        response = client.get(path, follow=True)
        found += [f"{path}: {x}" for x in _inline(response.content.decode())]
    assert not found, "\n".join(found)
