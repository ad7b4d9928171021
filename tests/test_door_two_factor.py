"""The second factor (issue 23, item 2): required for the district center, the auditor and the tenant
administrator; such an account reaches only the enrolment page until it has enrolled; enrolment with
a QR code drawn by the app and a code computed here as the app would; a correct, a wrong and a replayed
code; a recovery code works once; reset by the tenant administrator, audited; API tokens only past the
second factor."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from schools.door import services as door_services
from schools.permissions import Role
from tests.door import door_on, enrolled, events, totp_now, verified_client
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def door(settings, db):
    yield from door_on(settings)


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_district_account_without_a_second_factor_reaches_only_the_enrolment_page(world, door):
    client = _signed_in(world.a.users[Role.DISTRICT_STAFF])
    for path in ["/", "/students/", "/funding/awards/", "/audit/", "/schools/", "/accounts/security/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/two-factor/"), (path, response["Location"])
    assert client.get("/accounts/two-factor/").url == "/accounts/two-factor/enrol/"
    assert client.get("/accounts/two-factor/enrol/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 403  # the API with the session: refused too
    assert client.get("/menu/counts/", HTTP_HX_REQUEST="true")["HX-Redirect"].startswith("/accounts/two-factor/")


def test_a_teacher_signs_in_with_the_password_alone(world, door):
    assert _signed_in(world.a.users[Role.CLASS_TEACHER]).get("/").status_code == 200


def test_enrolment_with_the_qr_code_and_a_code_of_the_app(world, door):
    user = world.a.users[Role.DISTRICT_AUDITOR]
    client = _signed_in(user)
    page = client.get("/accounts/two-factor/enrol/").content.decode()
    assert "<svg" in page
    assert 'data-testid="otp-qr"' in page
    assert "style=" not in page.split('data-testid="otp-qr"')[1].split("</div>")[0]  # the CSP refuses those
    device = TOTPDevice.objects.get(user=user, confirmed=False)

    wrong = client.post("/accounts/two-factor/enrol/", {"code": "000000" if totp_now(device) != "000000" else "111111"})
    assert 'data-testid="otp-error"' in wrong.content.decode()
    assert client.get("/").status_code == 302

    time.sleep(1.1)  # a wrong code slows the next try down (django-otp's throttle: 1 s, doubling)
    done = client.post("/accounts/two-factor/enrol/", {"code": totp_now(device)})
    assert 'data-testid="recovery-codes"' in done.content.decode()
    assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert StaticDevice.objects.get(user=user).token_set.count() == 10
    assert events(world.a.tenant, "user.two_factor_enrol", user)


def test_a_stolen_password_does_not_enrol_a_second_phone(world, door):
    user = world.a.users[Role.DISTRICT_STAFF]
    enrolled(user)
    client = _signed_in(user)
    assert client.get("/accounts/two-factor/enrol/").url == "/accounts/two-factor/"


def test_a_correct_a_wrong_and_a_replayed_code(world, door):
    user = world.a.users[Role.DISTRICT_STAFF]
    device = enrolled(user)
    first = _signed_in(user)
    code = totp_now(device)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert 'data-testid="otp-error"' in first.post("/accounts/two-factor/", {"code": wrong}).content.decode()
    assert first.get("/").status_code == 302
    time.sleep(1.1)  # a wrong code slows the next try down (django-otp's throttle: 1 s, doubling)
    assert first.post("/accounts/two-factor/", {"code": code, "next": "/students/"}).url == "/students/"
    assert first.get("/").status_code == 200

    replay = _signed_in(user)
    again = replay.post("/accounts/two-factor/", {"code": code})
    assert 'data-testid="otp-error"' in again.content.decode()  # a code works once
    assert replay.get("/").status_code == 302
    assert len(events(world.a.tenant, "user.two_factor_failed", user)) == 2


def test_a_recovery_code_works_once(world, door):
    user = world.a.users[Role.TENANT_ADMIN]
    enrolled(user)
    (code, *_rest) = door_services.recovery_codes_replace(user=user)
    client = _signed_in(user)
    assert client.post("/accounts/two-factor/", {"code": code}).status_code == 302
    assert client.get("/").status_code == 200
    assert events(world.a.tenant, "user.recovery_code_used", user)
    again = _signed_in(user)
    assert 'data-testid="otp-error"' in again.post("/accounts/two-factor/", {"code": code}).content.decode()


def test_the_tenant_admin_resets_a_lost_phone_audited(world, door):
    user = world.a.users[Role.DISTRICT_STAFF]
    enrolled(user)
    before = verified_client(user)
    admin = verified_client(world.a.users[Role.TENANT_ADMIN])
    assert admin.post(f"/accounts/manage/{user.pk}/two-factor-reset/").status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert before.get("/").status_code == 302  # the sessions it had are over
    user.refresh_from_db()  # signing in again reads the account afresh
    after = _signed_in(user)
    assert after.get("/").url.startswith("/accounts/two-factor/")
    assert after.get("/accounts/two-factor/").url == "/accounts/two-factor/enrol/"
    (reset,) = events(world.a.tenant, "user.two_factor_reset", user)
    assert reset.after["by"] == world.a.users[Role.TENANT_ADMIN].username


def test_an_api_token_only_past_the_second_factor(world, door):
    user = world.a.users[Role.DISTRICT_STAFF]
    device = enrolled(user)
    client = Client()
    refused = client.post("/api/v1/token/", {"username": user.username, "password": PASSWORD})
    assert refused.status_code == 400
    assert "otp" in refused.json()
    issued = client.post("/api/v1/token/", {"username": user.username, "password": PASSWORD, "otp": totp_now(device)})
    assert issued.status_code == 200, issued.content
    key = issued.json()["token"]
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_an_account_that_must_enrol_gets_no_api_token(world, door):
    user = world.a.users[Role.DISTRICT_AUDITOR]
    refused = Client().post("/api/v1/token/", {"username": user.username, "password": PASSWORD, "otp": "123456"})
    assert refused.status_code == 400
    teacher = world.a.users[Role.CLASS_TEACHER]
    assert Client().post("/api/v1/token/", {"username": teacher.username, "password": PASSWORD}).status_code == 200


def test_the_demo_districts_are_spared_only_where_settings_say(world, door):
    user = world.a.users[Role.DISTRICT_STAFF]
    assert door_services.second_factor_needed(user)
    door.TWO_FACTOR_OFF_FOR_TENANTS = [world.a.tenant.slug]  # what DEBUG sets for demo-a and demo-b
    assert not door_services.second_factor_needed(user)
    assert door_services.second_factor_needed(world.b.users[Role.DISTRICT_STAFF])
