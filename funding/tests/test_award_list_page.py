"""The award list page: its query count does not grow with the pupils on the list."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from funding.models import Program
from funding.services import awards
from schools.permissions import Role
from tests.factories import make_semester
from tests.money import identify


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_award_list_page_reads_its_rows_in_a_constant_number_of_queries(world, tenant_of):
    w = world.a
    officer = w.user(Role.SCHOOL_OFFICER)
    client = Client()
    client.force_login(officer)
    with tenant_of(w.tenant):
        semester = make_semester(academic_year=2026, term="SPRING")
        program = Program.objects.get(code="LIVING_SUBSIDY")
        identify(w, w.students["c1"][0])
        award_list = awards.award_list_build(actor=officer, program=program, semester=semester, school=w.schools["s1"])
    url = reverse("funding:award_list", args=[award_list.pk])
    one = _queries(client, url)
    with tenant_of(w.tenant):
        for pupil in [w.students["c1"][1], *w.students["c2"], *w.students["c3"]]:
            identify(w, pupil)
        award_list = awards.award_list_build(actor=officer, program=program, semester=semester, school=w.schools["s1"])
        assert award_list.awards.count() == 6
    assert _queries(client, url) == one  # six rows: no query per row (each row's program, class, pupil)
