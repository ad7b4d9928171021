"""/api/v1/oversight/: the dashboard's figures (the caller's unit) and the district's report snapshots,
read only, with the pages' permissions."""

from __future__ import annotations

import datetime as dt

from rest_framework.test import APIClient

from oversight.models import ReportKind, ReportSnapshot
from oversight.services import Period, report_generate
from schools.permissions import Role


def _api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)  # a session: the tenant middleware sees the user
    return client


def test_the_dashboard_endpoint_answers_the_pages_figures(world, tenant_of, money_semester):
    staff = _api(world.a.users[Role.DISTRICT_STAFF])
    body = staff.get("/api/v1/oversight/dashboard/", {"semester": money_semester.code}).json()
    totals = next(c for c in body["charts"] if c["key"] == "money_totals")
    assert totals["rows"][0][1] == "500.00"
    assert staff.get("/api/v1/oversight/dashboard/", {"semester": "1999-AUTUMN"}).status_code == 400
    assert _api(world.a.users[Role.CLASS_TEACHER]).get("/api/v1/oversight/dashboard/").status_code == 403
    # Another tenant's semester is "not found" like a missing one.
    other = _api(world.b.users[Role.DISTRICT_STAFF]).get(
        "/api/v1/oversight/dashboard/", {"semester": str(money_semester.pk)}
    )
    assert other.status_code == 400


def test_snapshots_are_read_by_the_district_only(world, tenant_of, money_semester):
    with tenant_of(world.a.tenant):
        snapshot = report_generate(
            actor=world.a.users[Role.DISTRICT_STAFF],
            kind=ReportKind.HALF_YEAR,
            period=Period("2027-H1", dt.date(2027, 1, 1), dt.date(2027, 6, 30)),
        )
    auditor = _api(world.a.users[Role.DISTRICT_AUDITOR])
    listed = auditor.get("/api/v1/oversight/reports/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    # The test world has its own snapshot already (the isolation sweep needs one): the new one is
    # listed beside it, and every row listed is district A's.
    ids = [r["id"] for r in rows]
    assert str(snapshot.pk) in ids
    with tenant_of(world.a.tenant):
        assert set(ids) == {str(pk) for pk in ReportSnapshot.objects.values_list("pk", flat=True)}
    one = auditor.get(f"/api/v1/oversight/reports/{snapshot.pk}/").json()
    assert one["fingerprint"] == snapshot.fingerprint
    assert one["figures"]["period"] == "2027-H1"
    assert _api(world.a.users[Role.SCHOOL_OFFICER]).get("/api/v1/oversight/reports/").status_code == 403
    assert _api(world.b.users[Role.DISTRICT_STAFF]).get(f"/api/v1/oversight/reports/{snapshot.pk}/").status_code == 404
