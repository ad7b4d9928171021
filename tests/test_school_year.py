"""A school year reads "2026—2027学年" wherever it is shown or chosen (issue 19 item 1, issue 25)."""

from __future__ import annotations

from django.template import Context, Template
from django.test import Client
from django.utils import translation

from core import clock
from schools.permissions import Role
from tests.factories import make_application


def test_the_filter_writes_a_school_year_as_people_do():
    template = Template("{% load school_year %}{{ year|school_year }}")
    with translation.override("zh-hans"):
        assert template.render(Context({"year": 2026})) == "2026—2027学年"
    with translation.override("en"):
        assert template.render(Context({"year": "2026"})) == "2026–2027 school year"
    assert template.render(Context({"year": None})) == ""


def test_the_application_page_and_the_publicity_form_show_school_years(world, tenant_of):
    teacher = world.a.users[Role.CLASS_TEACHER]
    with tenant_of(world.a.tenant):
        app = make_application(world.a.students["c1"][0], by=teacher, academic_year=2025)
    client = Client()
    client.force_login(teacher)
    assert "2025—2026学年" in client.get(f"/students/applications/{app.pk}/").content.decode()
    officer = Client()
    officer.force_login(world.a.users[Role.SCHOOL_OFFICER])
    page = officer.get("/students/publicity/").content.decode()
    current = clock.current_school_year()
    assert f"{current}—{current + 1}学年" in page
