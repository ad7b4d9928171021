"""API tokens: stored as a digest only, expiring, named per device, listed and revoked by their owner and
by the tenant administrator of the owner's tenant (never across tenants), every issue and revocation
audited in the owner's tenant chain."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken

from core.audit.models import AuditEvent
from core.tenancy.context import tenant_transaction
from schools import services
from schools.models import ApiToken
from schools.permissions import Role
from tests.factories import PASSWORD, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    """Two tenants; in A two teachers and the tenant administrator, in B a teacher."""
    a = services.tenant_create(slug="tok-a", name="甲 district", region_code="410622")
    b = services.tenant_create(slug="tok-b", name="乙 district", region_code="511702")
    with tenant_transaction(a.pk):
        people = {
            "teacher": user_with_role(a, Role.DISTRICT_STAFF, username="a-teacher"),
            "colleague": user_with_role(a, Role.DISTRICT_STAFF, username="a-colleague"),
            "admin": user_with_role(a, Role.TENANT_ADMIN, username="a-admin"),
        }
    with tenant_transaction(b.pk):
        people["stranger"] = user_with_role(b, Role.DISTRICT_STAFF, username="b-stranger")
    return people


def _issue(user, name="laptop") -> tuple[ApiToken, str]:
    return services.api_token_create(user=user, name=name)


def _me(key: str) -> int:
    return Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_token_endpoint_issues_a_named_expiring_token(people):
    response = Client().post("/api/v1/token/", {"username": "a-teacher", "password": PASSWORD, "name": "roster sync"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"token", "expiry"}
    token = ApiToken.objects.select_related("token").get(token__user=people["teacher"])
    assert token.name == "roster sync"
    expected = timezone.now() + dt.timedelta(days=30)
    assert abs(token.token.expiry - expected) < dt.timedelta(minutes=1)
    assert _me(body["token"]) == 200


def test_the_token_endpoint_names_an_unnamed_token_api_and_refuses_a_wrong_password(people):
    assert Client().post("/api/v1/token/", {"username": "a-teacher", "password": "wrong"}).status_code == 400
    assert not ApiToken.objects.exists()
    response = Client().post("/api/v1/token/", {"username": "a-teacher", "password": PASSWORD})
    assert response.status_code == 200
    assert ApiToken.objects.get().name == "API"


def test_the_database_holds_no_part_of_the_key_and_its_values_sign_nobody_in(people):
    token, key = _issue(people["teacher"])
    assert _me(key) == 200
    dumped = [
        *AuthToken.objects.filter(digest=token.token_id).values().get().values(),
        *ApiToken.objects.filter(pk=token.pk).values().get().values(),
    ]
    text = " ".join(str(v) for v in dumped)
    pieces = {key[i : i + 8] for i in range(len(key) - 7)}
    assert not [p for p in pieces if p in text], "a piece of the key is stored in clear"
    for value in dumped:
        if isinstance(value, str) and value:
            assert _me(value) == 401, value


def test_an_expired_token_is_refused(people):
    token, key = _issue(people["teacher"])
    AuthToken.objects.filter(digest=token.token_id).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    assert _me(key) == 401


def test_a_revoked_token_is_refused(people):
    token, key = _issue(people["teacher"])
    response = _logged_in(people["teacher"]).post(f"/schools/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert _me(key) == 401
    assert not AuthToken.objects.filter(digest=token.token_id).exists()


def test_the_page_shows_a_new_key_once(people):
    client = _logged_in(people["teacher"])
    response = client.post("/schools/tokens/", {"name": "office PC"})
    assert response.status_code == 200
    key = response.context["key"]
    assert key
    assert key in response.content.decode()
    assert _me(key) == 200
    page = client.get("/schools/tokens/").content.decode()
    assert "office PC" in page
    assert key not in page


def test_the_owner_lists_and_revokes_their_own_tokens_and_not_a_colleagues(people):
    mine, _key = _issue(people["teacher"], "my laptop")
    theirs, their_key = _issue(people["colleague"], "their phone")
    client = _logged_in(people["teacher"])
    page = client.get("/schools/tokens/").content.decode()
    assert "my laptop" in page
    assert "their phone" not in page
    assert client.post(f"/schools/tokens/{theirs.pk}/revoke/").status_code == 404
    assert _me(their_key) == 200
    assert client.post(f"/schools/tokens/{mine.pk}/revoke/").status_code == 302
    assert not ApiToken.objects.filter(pk=mine.pk).exists()


def test_the_tenant_admin_revokes_tokens_of_their_tenant_and_gets_404_for_another(people):
    ours, our_key = _issue(people["teacher"], "teacher laptop")
    foreign, foreign_key = _issue(people["stranger"], "stranger laptop")
    client = _logged_in(people["admin"])
    page = client.get("/schools/tokens/").content.decode()
    assert "teacher laptop" in page
    assert "stranger laptop" not in page
    assert "b-stranger" not in page
    assert client.post(f"/schools/tokens/{foreign.pk}/revoke/").status_code == 404
    assert _me(foreign_key) == 200
    assert client.post(f"/schools/tokens/{ours.pk}/revoke/").status_code == 302
    assert _me(our_key) == 401


def test_a_user_who_does_not_manage_accounts_sees_no_one_elses_tokens(people):
    _issue(people["colleague"], "their phone")
    response = _logged_in(people["teacher"]).get("/schools/tokens/")
    assert not response.context["district"]
    assert "their phone" not in response.content.decode()


def test_issue_and_revocation_are_audited_in_the_owners_tenant_chain(people):
    teacher, admin = people["teacher"], people["admin"]
    response = _logged_in(teacher).post("/schools/tokens/", {"name": "office PC"})
    key = response.context["key"]
    token = ApiToken.objects.get(token__user=teacher)
    assert _logged_in(admin).post(f"/schools/tokens/{token.pk}/revoke/").status_code == 302
    with tenant_transaction(teacher.tenant_id):
        events = list(AuditEvent.objects.filter(object_id=str(token.pk)).order_by("seq"))
    assert [(e.action, e.actor_id) for e in events] == [
        ("api_token.create", teacher.pk),
        ("api_token.revoke", admin.pk),
    ]
    assert events[0].after["name"] == "office PC"
    assert events[1].before["user"] == teacher.username
    assert all(key not in str((e.before, e.after)) for e in events)
    with tenant_transaction(people["stranger"].tenant_id):
        assert not AuditEvent.objects.filter(object_id=str(token.pk)).exists()


def test_the_token_endpoint_audits_the_issue_as_the_user_who_signed_in(people):
    Client().post("/api/v1/token/", {"username": "a-teacher", "password": PASSWORD, "name": "cli"})
    token = ApiToken.objects.get()
    with tenant_transaction(people["teacher"].tenant_id):
        event = AuditEvent.objects.get(object_id=str(token.pk))
    assert (event.action, event.actor_id, event.source) == ("api_token.create", people["teacher"].pk, "api")


def test_a_platform_operator_gets_no_token(db):
    services.user_create(tenant=None, username="operator", password=PASSWORD, validate=False)
    response = Client().post("/api/v1/token/", {"username": "operator", "password": PASSWORD})
    assert response.status_code == 400
    assert not AuthToken.objects.exists()


def test_the_page_reads_the_same_number_of_queries_for_one_token_or_many(people):
    client = _logged_in(people["admin"])
    _issue(people["admin"], "one")
    _issue(people["teacher"], "two")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/schools/tokens/").status_code == 200
        return len(captured)

    few = queries()
    for n in range(3):
        _issue(people["admin"], f"mine {n}")
        _issue(people["colleague"], f"theirs {n}")
    assert queries() == few
