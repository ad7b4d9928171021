"""The import page follows the job to its end: the polled fragment carries the title (正在导入 while it
runs, 已导入 after), stops polling when the job ends, and shows the first rejected rows with their
reasons instead of leaving them in the downloadable report only."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from schools.models import Job
from schools.permissions import Role
from students.roster import services
from students.tests.test_roster_support import pupil, write_roster
from students.tests.test_roster_views import _upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_running_import_is_titled_importing_and_polls(world, tenant_of):
    officer = world.a.user(Role.SCHOOL_OFFICER)
    with tenant_of(world.a.tenant):
        job = Job.objects.create(kind="roster_import", actor=officer, params={"name": "三年级名册.xlsx"})
    fragment = _client(officer).get(reverse("schools:job", args=[job.pk])).content.decode()
    assert "正在导入“三年级名册.xlsx”" in fragment
    assert 'hx-trigger="every 1s"' in fragment


def test_a_finished_import_says_so_stops_polling_and_shows_the_rejections(
    world, tenant_of, django_capture_on_commit_callbacks, tmp_path
):
    a = world.a
    officer = a.user(Role.SCHOOL_OFFICER)
    client = _client(officer)
    rows = [pupil(a, 姓名="好学生"), pupil(a, 姓名="号码短", 身份证号="123"), pupil(a, 姓名="别校生", klass="c4")]
    response = _upload(client, write_roster(tmp_path / "三年级名册.xlsx", rows), django_capture_on_commit_callbacks)
    with tenant_of(a.tenant):
        job = Job.objects.get(kind="roster_import")
    assert job.result["rejected"] == 2

    for html in (
        client.get(reverse("schools:job", args=[job.pk])).content.decode(),  # what the polling swaps in
        client.get(response["Location"]).content.decode(),  # the page opened afterwards
    ):
        assert "已导入“三年级名册.xlsx”" in html
        assert "正在导入" not in html
        assert 'hx-trigger="every' not in html  # the job no longer polls (the side menu loads its counts once)
        assert 'data-testid="roster-rejections"' in html
        assert "号码短" in html
        assert "别校生" in html
        assert "好学生" not in html  # imported rows are not listed
    rejected = job.result["first_rejections"]
    assert [r["row"] for r in rejected] == [3, 4]
    assert all(r["reasons"] for r in rejected)
    assert "*" in rejected[1]["id_number"]  # masked, as in the report


def test_only_the_first_rejections_are_kept_for_the_page(world, tenant_of, monkeypatch, tmp_path):
    monkeypatch.setattr(services, "FIRST_REJECTIONS", 2)
    a = world.a
    path = write_roster(tmp_path / "r.xlsx", [pupil(a, 身份证号="12" + str(i)) for i in range(5)])
    with tenant_of(a.tenant):
        outcome = services.roster_import(path=path, file_name="r.xlsx", actor=a.user(Role.SCHOOL_OFFICER))
    assert outcome.rejected == 5
    assert len(outcome.as_result()["first_rejections"]) == 2
