"""The payment roster through the API, as the page's export gives it: `?format=xlsx|csv` whatever the
client's Accept header, one bank's lines in that bank's layout, one funding source's lines, an API
token as well as a session; bad options are field errors, a roster with no line the service's refusal."""

from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from core.audit.models import AuditEvent
from disbursements.api import ROSTER_MEDIA_TYPES
from funding.models import FundingSource
from schools import services
from schools.permissions import Role

pytestmark = pytest.mark.django_db

BANK = "农村信用社"  # the factory's line is paid through it; its layout: 序号, 姓名, 账号


def _token_client(user) -> APIClient:
    _row, key = services.api_token_create(user=user, name="bank export")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _roster(world, accept=None, **query):
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    client = _token_client(world.a.users[Role.DISTRICT_STAFF])
    return client.get(f"/api/v1/batches/{world.a.batch.pk}/roster/", query, **extra)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "text/csv", ROSTER_MEDIA_TYPES["xlsx"]])
def test_the_roster_comes_in_the_format_asked_for_whatever_the_accept_header(world, fmt, accept):
    response = _roster(world, accept, format=fmt)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == ROSTER_MEDIA_TYPES[fmt]
    assert response["Content-Disposition"].endswith(f'filename="roster-1.{fmt}"')
    body = b"".join(response.streaming_content)
    assert body.startswith(b"PK\x03\x04") if fmt == "xlsx" else body.decode("gb18030").startswith("序号")


def test_one_banks_roster_is_in_that_banks_layout(world, tenant_of):
    response = _roster(world, format="csv", bank=BANK)
    assert response.status_code == 200, response.content
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("gb18030"))))
    assert rows[0] == ["序号", "姓名", "账号"]
    assert rows[1][:2] == ["1", world.a.line.student.name]
    with tenant_of(world.a.tenant):
        export = AuditEvent.objects.filter(action="payments.export").get()
    assert (export.after["bank"], export.after["layout"], export.after["format"]) == (BANK, BANK, "csv")


def test_one_funding_sources_roster_holds_only_its_lines(world, tenant_of):
    ours = world.a.line.source
    other = next(s for s in FundingSource.values if s != ours)
    assert _roster(world, format="csv", source=ours).status_code == 200
    refused = _roster(world, format="csv", source=other)
    assert refused.status_code == 400
    assert list(refused.json()) == ["detail"]  # the service: no line of that source was sent
    with tenant_of(world.a.tenant):
        exports = list(AuditEvent.objects.filter(action="payments.export").values_list("after", flat=True))
    assert [e["source"] for e in exports] == [ours]


def test_a_bank_without_lines_is_the_services_refusal(world):
    response = _roster(world, format="xlsx", bank="no such bank")
    assert response.status_code == 400
    assert list(response.json()) == ["detail"]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"format": "pdf"}, "format"), ({"source": "LOTTERY"}, "source"), ({"bank": "x" * 51}, "bank")],
)
def test_bad_roster_options_are_field_errors(world, query, field):
    response = _roster(world, "text/csv", **query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == [field]


def test_another_tenants_batch_is_not_found(world):
    client = _token_client(world.a.users[Role.DISTRICT_STAFF])
    response = client.get(f"/api/v1/batches/{world.b.batch.pk}/roster/", {"format": "csv"})
    assert response.status_code == 404


def test_the_schema_documents_the_rosters_options_and_media_types(world):
    client = _token_client(world.a.users[Role.DISTRICT_STAFF])
    operation = client.get("/api/schema/?format=json").json()["paths"]["/api/v1/batches/{id}/roster/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"id", "format", "bank", "source"}
    assert set(operation["responses"]["200"]["content"]) == set(ROSTER_MEDIA_TYPES.values())
    assert {"400", "401", "403", "404"} <= set(operation["responses"])
