"""The platform operator's official calendar page: the years, the upload (checked, all or nothing,
audited), a year's days, the template; nobody else opens it."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audits.models import AuditEvent
from schools import services
from schools.models import OfficialCalendarDay, OfficialCalendarYear
from schools.official_calendar.files import read_calendar_file
from schools.permissions import Role
from tests.factories import FICTIONAL_2027_CSV


@pytest.fixture
def operator(db):
    return services.user_create(tenant=None, username="operator", password="x", validate=False)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _upload(client: Client, text: str, *, year: int = 2027, name: str = "2027.csv"):
    upload = SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")
    return client.post("/schools/calendar/", {"year": year, "file": upload}, follow=True)


def test_the_operator_uploads_a_year_and_sees_its_days(world, tenant_of, operator):
    response = _upload(_client(operator), FICTIONAL_2027_CSV)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == "/schools/calendar/2027/"
    assert "已导入 2027 年：节假日 3 天，调休上班 1 天。" in page
    assert "虚构节" in page
    assert hashlib.sha256(FICTIONAL_2027_CSV.encode()).hexdigest() in page
    assert OfficialCalendarYear.objects.get(year=2027).loaded_by == operator
    with tenant_of(world.a.tenant):
        [event] = AuditEvent.objects.filter(action="calendar.load")
    assert (event.actor_id, event.source, event.object_id) == (operator.pk, "web", "2027")
    again = _upload(_client(operator), FICTIONAL_2027_CSV)
    assert "2027 年已导入完全相同的安排，未作任何更改。" in again.content.decode()


def test_a_bad_file_comes_back_with_its_lines_named_and_nothing_loaded(world, operator):
    bad = "date,kind,name\n2027-01-26,holiday,虚构节\n2027-01-26,班,虚构节\n2027-02-29,holiday,虚构节\n"
    response = _upload(_client(operator), bad)
    page = response.content.decode()
    assert response.status_code == 400
    assert "第3行：2027-01-26 在第2行是另一种类型" in page
    assert "第4行：“2027-02-29”不是有效日期" in page
    assert "未导入任何内容" in page
    assert not OfficialCalendarYear.objects.filter(year=2027).exists()


def test_a_file_of_another_year_is_refused(operator):
    response = _upload(_client(operator), FICTIONAL_2027_CSV, year=2028)
    assert response.status_code == 400
    assert "第2行：2027-01-01 不在 2028 年内" in response.content.decode()
    assert not OfficialCalendarDay.objects.filter(date__year=2027).exists()


def test_the_page_lists_the_years_and_the_template_downloads(operator):
    client = _client(operator)
    page = client.get("/schools/calendar/").content.decode()
    assert '<a href="/schools/calendar/2026/">2026</a>' in page
    assert "chinesecalendar 1.11.0" in page
    template = client.get("/schools/calendar/template.csv?year=2027")
    assert template["Content-Disposition"] == 'attachment; filename="official-calendar-2027.csv"'
    body = b"".join(template)
    assert b"date,kind,name" in body
    loaded = client.get("/schools/calendar/template.csv?year=2026")
    assert len(read_calendar_file(b"".join(loaded), year=2026).rows) == 39  # what is loaded, to correct it
    assert client.get("/schools/calendar/1999/").status_code == 404


@pytest.mark.parametrize("role", list(Role))
def test_nobody_but_the_platform_operator_opens_or_loads_the_calendar(world, role):
    client = _client(world.a.users[role])
    assert client.get("/schools/calendar/").status_code == 403
    assert client.get("/schools/calendar/2026/").status_code == 403
    assert client.get("/schools/calendar/template.csv").status_code == 403
    assert _upload(client, FICTIONAL_2027_CSV).status_code == 403
    assert not OfficialCalendarYear.objects.filter(year=2027).exists()
