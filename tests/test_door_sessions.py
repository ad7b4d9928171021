"""Sessions (issue 23, item 3): an idle session ends after SESSION_IDLE_MINUTES, any session after
SESSION_ABSOLUTE_HOURS (the clocks set back in the test); one's sessions and tokens are listed; "sign
out everywhere" ends the others and revokes the tokens, audited."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from schools import services
from schools.door.services import SESSION_SEEN, SESSION_STARTED
from schools.models import ApiToken, SignIn
from schools.permissions import Role
from tests.door import door_on, events
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def door(settings, db):
    yield from door_on(settings)


def _signed_in(username: str, address: str = "127.0.0.1") -> Client:
    client = Client(REMOTE_ADDR=address, HTTP_USER_AGENT=f"browser at {address}")
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def _set_back(client: Client, key: str, seconds: float) -> None:
    session = client.session
    session[key] = time.time() - seconds
    session.save()


def test_an_idle_session_ends(world, door):
    teacher = world.a.users[Role.CLASS_TEACHER]
    client = _signed_in(teacher.username)
    assert client.get("/").status_code == 200
    _set_back(client, SESSION_SEEN, 29 * 60)
    assert client.get("/").status_code == 200  # 29 minutes idle: still signed in
    _set_back(client, SESSION_SEEN, 31 * 60)
    ended = client.get("/students/")
    assert ended.status_code == 302
    assert ended.url.startswith("/accounts/login/?next=%2Fstudents%2F&expired=1")
    assert client.get("/").url.startswith("/accounts/login/")  # signed out, not only redirected once
    assert 'data-testid="session-ended"' in client.get(ended.url).content.decode()
    assert SignIn.objects.get(user=teacher).ended_at is not None
    (timeout,) = events(world.a.tenant, "user.session_timeout", teacher)
    assert timeout.after == {"why": "idle"}


def test_the_idle_time_is_a_setting(world, door):
    door.SESSION_IDLE_MINUTES = 5
    client = _signed_in(world.a.users[Role.CLASS_TEACHER].username)
    _set_back(client, SESSION_SEEN, 6 * 60)
    assert client.get("/").status_code == 302


def test_a_busy_session_still_ends_after_its_lifetime(world, door):
    client = _signed_in(world.a.users[Role.CLASS_TEACHER].username)
    _set_back(client, SESSION_STARTED, 11 * 3600)
    assert client.get("/").status_code == 200
    _set_back(client, SESSION_STARTED, 12 * 3600 + 60)
    assert client.get("/").url.startswith("/accounts/login/")


def test_sign_out_everywhere_ends_the_other_sessions_and_revokes_the_tokens(world, door):
    teacher = world.a.users[Role.CLASS_TEACHER]
    laptop, phone = _signed_in(teacher.username, "10.0.0.1"), _signed_in(teacher.username, "10.0.0.2")
    _token, key = services.api_token_create(user=teacher, name="sync")
    page = laptop.get("/accounts/security/").content.decode()
    assert "browser at 10.0.0.1" in page
    assert "browser at 10.0.0.2" in page
    assert "sync" in page

    assert laptop.post("/accounts/security/sign-out-everywhere/").status_code == 302
    assert phone.get("/").url.startswith("/accounts/login/")
    assert laptop.get("/").status_code == 200  # the one that asked stays
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert not ApiToken.objects.filter(token__user=teacher).exists()
    page = laptop.get("/accounts/security/").content.decode()
    assert "browser at 10.0.0.2" not in page
    (event,) = events(world.a.tenant, "user.sign_out_everywhere", teacher)
    assert event.after == {"sessions": 1, "tokens": 1}


def test_signing_out_ends_the_session_in_the_list(world, door):
    teacher = world.a.users[Role.CLASS_TEACHER]
    client = _signed_in(teacher.username)
    client.post("/accounts/logout/")
    assert SignIn.objects.get(user=teacher).ended_at is not None


def test_headers_of_the_door(world, door):
    response = _signed_in(world.a.users[Role.CLASS_TEACHER].username).get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
