"""/api/v1/care/weekly-returns/: scoped as the pages; submit once (a second submit is a 400 with the
message), another school is "not found", another tenant's return is 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from care.models import WeeklyReturn
from core import clock
from schools.permissions import Role

URL = "/api/v1/care/weekly-returns/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_officer_submits_through_the_api_once(world, tenant_of):
    w = world.a
    officer = _client(w.users[Role.SCHOOL_OFFICER])
    body = {"school": str(w.schools["s1"].pk), "week": "2026-10-14", "notes": "零报告以外", "expected_suspected": 3}
    with clock.frozen_at(dt.date(2026, 10, 16)):
        first = officer.post(URL, body, content_type="application/json")
        second = officer.post(URL, body, content_type="application/json")
    assert first.status_code == 201, first.content
    assert first.json()["week_start"] == "2026-10-12"
    assert (first.json()["suspected"], first.json()["is_late"]) == (3, False)
    assert second.status_code == 400
    assert "未重复提交" in second.json()["detail"][0]
    with tenant_of(w.tenant):
        assert WeeklyReturn.objects.filter(week_start=dt.date(2026, 10, 12)).count() == 1


def test_another_school_is_not_found_and_another_tenants_return_is_404(world):
    w = world.a
    officer = _client(w.users[Role.SCHOOL_OFFICER])
    with clock.frozen_at(dt.date(2026, 10, 16)):
        refused = officer.post(URL, {"school": str(w.schools["s2"].pk), "week": "2026-10-14"}, "application/json")
    assert refused.status_code == 400
    assert "school" in refused.json()
    assert officer.get(f"{URL}{w.weekly_returns['s2'].pk}/").status_code == 404
    assert officer.get(f"{URL}{world.b.weekly_returns['s1'].pk}/").status_code == 404
    assert officer.get(f"{URL}{w.weekly_returns['s1'].pk}/").status_code == 200


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        (Role.CLASS_TEACHER, None),
        (Role.SCHOOL_OFFICER, {"s1"}),
        (Role.PRINCIPAL, {"s1"}),
        (Role.DISTRICT_STAFF, {"s1", "s2"}),
        (Role.DISTRICT_AUDITOR, {"s1", "s2"}),
    ],
)
def test_the_list_is_scoped_as_the_pages(world, role, sees):
    w = world.a
    response = _client(w.users[role]).get(URL, {"week_start": "2026-10-05"})
    if sees is None:
        assert response.status_code == 403
        return
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {str(w.weekly_returns[key].pk) for key in sees}


@pytest.mark.parametrize("role", [Role.PRINCIPAL, Role.DISTRICT_STAFF, Role.DISTRICT_AUDITOR])
def test_only_the_officer_submits_through_the_api(world, role):
    w = world.a
    with clock.frozen_at(dt.date(2026, 10, 16)):
        response = _client(w.users[role]).post(
            URL, {"school": str(w.schools["s1"].pk), "week": "2026-10-14"}, "application/json"
        )
    assert response.status_code == 403
