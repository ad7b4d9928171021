"""Failed sign-ins (issue 23, item 1): counted per account and per address; after five within the
window the account is locked and even the right password is refused with a plain message that does
not tell whether the account exists; the tenant administrator unlocks it, audited; the token endpoint
is throttled and counts failures too."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from schools.api.views import TokenEndpointThrottle
from schools.permissions import Role
from tests.door import door_on, events, verified_client
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def door(settings, db):
    yield from door_on(settings)


LOCKED = "Too many failed sign-ins"


def _sign_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password}, HTTP_ACCEPT_LANGUAGE="en")


def _alert(response) -> str:
    return re.search(r'data-testid="locked-out">([^<]*)<', response.content.decode()).group(1)


def _english(address: str = "127.0.0.1") -> Client:
    client = Client(REMOTE_ADDR=address)
    client.cookies["django_language"] = "en"
    return client


def test_the_fifth_failure_locks_and_the_right_password_is_then_refused(world, door):
    teacher = world.a.users[Role.CLASS_TEACHER]
    client = _english()
    for _ in range(4):
        response = _sign_in(client, teacher.username, "wrong-Password-1")
        assert response.status_code == 200
        assert LOCKED not in response.content.decode()
    fifth = _sign_in(client, teacher.username, "wrong-Password-1")
    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()
    # After five failures the account is locked: a sixth wrong password, then the right one, meet the
    # lockout message (issue 23's wording), not "wrong password".
    sixth = _sign_in(client, teacher.username, "wrong-Password-1")
    assert sixth.status_code == 429
    assert LOCKED in sixth.content.decode()
    right = _sign_in(client, teacher.username, PASSWORD)
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert client.get("/").status_code == 302  # not signed in
    assert len(events(world.a.tenant, "user.sign_in_failed", teacher)) >= 5
    assert events(world.a.tenant, "user.lockout", teacher)


def test_the_lockout_message_is_the_same_for_an_account_that_does_not_exist(world, door):
    known, unknown = _english("10.0.0.1"), _english("10.0.0.2")
    for _ in range(5):
        last_known = _sign_in(known, world.a.users[Role.CLASS_TEACHER].username, "wrong-Password-1")
        last_unknown = _sign_in(unknown, "nobody-here", "wrong-Password-1")
    assert last_known.status_code == last_unknown.status_code == 429
    assert _alert(last_known) == _alert(last_unknown)
    assert LOCKED in _alert(last_known)


def test_an_address_is_locked_after_failures_on_several_accounts(world, door):
    client = _english("10.0.0.9")
    for n in range(5):
        _sign_in(client, f"guess-{n}", "wrong-Password-1")
    refused = _sign_in(client, world.a.users[Role.CLASS_TEACHER].username, PASSWORD)
    assert refused.status_code == 429
    # The account itself is not locked: from another address it signs in.
    assert _sign_in(_english("10.0.0.10"), world.a.users[Role.CLASS_TEACHER].username, PASSWORD).status_code == 302


def test_the_tenant_admin_unlocks_the_account_audited(world, door):
    teacher = world.a.users[Role.CLASS_TEACHER]
    client = _english()
    for _ in range(5):
        _sign_in(client, teacher.username, "wrong-Password-1")
    assert _sign_in(client, teacher.username, PASSWORD).status_code == 429

    admin = verified_client(world.a.users[Role.TENANT_ADMIN])
    page = admin.get("/accounts/manage/").content.decode()
    assert f'data-testid="unlock-{teacher.username}"' in page
    assert admin.post(f"/accounts/manage/{teacher.pk}/unlock/").status_code == 302

    assert _sign_in(client, teacher.username, PASSWORD).status_code == 302  # signed in
    assert client.get("/").status_code == 200
    (unlock,) = events(world.a.tenant, "user.unlock", teacher)
    assert unlock.after["by"] == world.a.users[Role.TENANT_ADMIN].username


def test_another_districts_admin_and_a_teacher_cannot_unlock(world, door):
    teacher = world.a.users[Role.CLASS_TEACHER]
    stranger = verified_client(world.b.users[Role.TENANT_ADMIN])
    assert stranger.post(f"/accounts/manage/{teacher.pk}/unlock/").status_code == 404
    colleague = Client()
    colleague.force_login(world.a.users[Role.SCHOOL_OFFICER])
    assert colleague.post(f"/accounts/manage/{teacher.pk}/unlock/").status_code == 403
    assert not events(world.a.tenant, "user.unlock")


def test_the_token_endpoint_is_throttled(world, door, monkeypatch):
    monkeypatch.setattr(TokenEndpointThrottle, "THROTTLE_RATES", {"token": "3/minute"})
    client = Client(REMOTE_ADDR="10.0.1.1")
    teacher = world.a.users[Role.CLASS_TEACHER]
    answers = [
        client.post("/api/v1/token/", {"username": teacher.username, "password": PASSWORD}).status_code
        for _ in range(4)
    ]
    assert answers == [200, 200, 200, 429]


def test_the_token_endpoint_counts_failures_and_refuses_a_locked_account(world, door):
    client = Client(REMOTE_ADDR="10.0.1.2")
    teacher = world.a.users[Role.CLASS_TEACHER]
    for _ in range(5):
        client.post("/api/v1/token/", {"username": teacher.username, "password": "wrong-Password-1"})
    refused = client.post("/api/v1/token/", {"username": teacher.username, "password": PASSWORD})
    assert refused.status_code == 429
    assert refused.json()["detail"]


def test_behind_the_proxy_the_address_is_the_one_the_proxy_appended(door):
    from django.test import RequestFactory

    from schools.door.backends import client_address

    request = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
    door.BEHIND_TLS_PROXY = False
    assert client_address(request) == "10.9.9.9"
    door.BEHIND_TLS_PROXY = True
    assert client_address(request) == "203.0.113.7"  # not 1.2.3.4, which the client could have written
