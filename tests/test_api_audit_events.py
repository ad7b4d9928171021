"""The audit trail through the API: read page by page with a cursor (every event once, newest first,
the same cost on the last page as on the first: no count, no OFFSET), filtered by a range of days, one
object (type and id), one action; bad filters and cursors in the one error format; only the caller's
tenant, only for those who may read the trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.audit import trail
from core.audit.models import AuditEvent
from schools.permissions import Role

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit-events/"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def auditor(world):
    return _client(world.a.users[Role.DISTRICT_AUDITOR])


def _read_all(client, url, **query) -> tuple[list[dict], int]:
    """Every event the list gives, following `next`; and the number of pages."""
    events, pages = [], 0
    response = client.get(url, query)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        events += body["results"]
        pages += 1
        if not body["next"]:
            return events, pages
        response = client.get(body["next"])


def _seqs(tenant_of, tenant, **filters) -> list[int]:
    with tenant_of(tenant):
        return list(AuditEvent.objects.filter(tenant=tenant, **filters).order_by("-seq").values_list("seq", flat=True))


def test_reading_the_whole_trail_page_by_page_gives_every_event_once_newest_first(world, auditor, tenant_of):
    expected = _seqs(tenant_of, world.a.tenant)
    assert len(expected) > 30  # the factory's rows are audited
    events, pages = _read_all(auditor, URL, page_size=7)
    assert [e["seq"] for e in events] == expected
    assert pages == -(-len(expected) // 7)


def test_a_page_neither_counts_the_trail_nor_skips_rows_to_reach_it(world, auditor):
    first = auditor.get(URL, {"page_size": 5}).json()
    assert set(first) == {"next", "previous", "results"}  # no count: it cost a scan of the trail per page
    with CaptureQueriesContext(connection) as queries:
        response = auditor.get(first["next"])
    assert response.status_code == 200
    sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
    assert "COUNT(" not in sql
    assert "OFFSET" not in sql


def test_the_page_size_is_bounded(auditor):
    assert len(auditor.get(URL, {"page_size": 100000}).json()["results"]) <= 1000


def test_events_are_filtered_by_action(world, auditor, tenant_of):
    events, _pages = _read_all(auditor, URL, action="funding.standard.create", page_size=5)
    assert [e["seq"] for e in events] == _seqs(tenant_of, world.a.tenant, action="funding.standard.create")
    assert events
    assert {e["action"] for e in events} == {"funding.standard.create"}


def test_events_are_filtered_by_object(world, auditor, tenant_of):
    batch = world.a.batch
    with tenant_of(world.a.tenant):
        trail.record(tenant_id=world.a.tenant.pk, action="payments.export", obj=batch, after={"lines": 1})
    events, _pages = _read_all(auditor, URL, object_type="disbursements.batch", object_id=str(batch.pk))
    assert [e["seq"] for e in events] == _seqs(
        tenant_of, world.a.tenant, object_type="disbursements.batch", object_id=str(batch.pk)
    )
    assert events[0]["action"] == "payments.export"
    assert {(e["object_type"], e["object_id"]) for e in events} == {("disbursements.batch", str(batch.pk))}
    by_id_only, _pages = _read_all(auditor, URL, object_id=str(batch.pk))
    assert by_id_only == events
    assert _read_all(auditor, URL, object_type="students.student", object_id=str(batch.pk))[0] == []


def test_events_are_filtered_by_a_range_of_days_both_included(world, auditor, tenant_of):
    today = timezone.localdate()
    day = dt.timedelta(days=1)
    everything = _seqs(tenant_of, world.a.tenant)
    assert [e["seq"] for e in _read_all(auditor, URL, occurred_at_after=today, occurred_at_before=today)[0]] == (
        everything
    )
    assert [e["seq"] for e in _read_all(auditor, URL, occurred_at_before=today)[0]] == everything
    assert _read_all(auditor, URL, occurred_at_after=today + day)[0] == []
    assert _read_all(auditor, URL, occurred_at_before=today - day)[0] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"occurred_at_after": "yesterday"}, "occurred_at"),
        ({"occurred_at_before": "2026-13-01"}, "occurred_at"),
        ({"action": "a" * 65}, "action"),
    ],
)
def test_a_bad_filter_is_a_field_error(auditor, query, field):
    response = auditor.get(URL, query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_bad_cursor_is_not_found_in_the_one_error_format(auditor):
    response = auditor.get(URL, {"cursor": "not-a-cursor"})
    assert response.status_code == 404
    assert list(response.json()) == ["detail"]


def test_another_tenants_events_are_never_listed(world, auditor, tenant_of):
    theirs = str(world.b.batch.pk)
    events, _pages = _read_all(auditor, URL, page_size=1000)
    assert {e["seq"] for e in events} == set(_seqs(tenant_of, world.a.tenant))
    assert _read_all(auditor, URL, object_id=theirs)[0] == []


@pytest.mark.parametrize("role", [Role.CLASS_TEACHER, Role.SCHOOL_OFFICER, Role.TENANT_ADMIN])
def test_only_those_who_read_the_trail_list_it(world, role):
    assert _client(world.a.users[role]).get(URL).status_code == 403
