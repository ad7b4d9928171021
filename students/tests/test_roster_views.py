"""The roster import pages: who may open them, the template, upload → job → progress → report."""

from __future__ import annotations

import io
import os
import time

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from schools.models import Job
from schools.permissions import Role
from students.models import Student
from students.roster.apply import CREATED, REJECTED
from students.roster.columns import COLUMNS, HEADERS, INSTRUCTIONS_SHEET, SHEET_NAME
from students.roster.report import OUTCOME_LABELS
from students.roster.tasks import roster_import_task
from students.tests.test_roster_support import new_id, pupil, read_report, write_roster
from tests.factories import user_with_role

PAGE = reverse("students:roster")


@pytest.fixture(autouse=True)
def _media(request, settings, tmp_path):
    if not request.node.get_closest_marker("worker"):  # a worker process reads the test settings' folder
        settings.MEDIA_ROOT = tmp_path / "media"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _upload(client: Client, path, django_capture_on_commit_callbacks, *, name: str | None = None):
    """POST the file; then run the job's task here, as a worker would once the request commits (the
    callbacks are captured, not sent: with a broker configured they would go to Redis)."""
    with path.open("rb") as f, django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(PAGE, {"file": SimpleUploadedFile(name or path.name, f.read())})
    if response.status_code == 302:
        assert len(callbacks) == 1
        job_id = response["Location"].rsplit("=", 1)[1]
        user = response.wsgi_request.user
        kwargs = {"tenant_id": str(user.tenant_id), "actor_id": str(user.pk), "job_id": job_id}
        roster_import_task.apply(kwargs=kwargs, throw=True)
    else:
        assert not callbacks
    return response


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.SCHOOL_OFFICER, 200),
        (Role.DISTRICT_STAFF, 200),
        (Role.CLASS_TEACHER, 403),
        (Role.GRADE_LEADER, 403),
        (Role.PRINCIPAL, 403),
        (Role.DISTRICT_AUDITOR, 403),
        (Role.TENANT_ADMIN, 403),
    ],
)
def test_the_import_page_is_for_school_officers_and_district_staff(world, role, status):
    client = _client(world.a.user(role))
    assert client.get(PAGE).status_code == status
    assert client.get(reverse("students:roster_template")).status_code == status


def test_the_template_has_the_columns_in_order_as_text_where_digits_matter(world):
    response = _client(world.a.user(Role.SCHOOL_OFFICER)).get(reverse("students:roster_template"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [SHEET_NAME, INSTRUCTIONS_SHEET]
    sheet = book[SHEET_NAME]
    header = [c.value for c in sheet[1]]
    assert tuple(header) == HEADERS
    assert all(c.font.b for c in sheet[1])
    for index, column in enumerate(COLUMNS, start=1):
        letter = openpyxl.utils.get_column_letter(index)
        text = (
            sheet.column_dimensions[letter].number_format == "@"
            and sheet.cell(row=2, column=index).number_format == "@"
        )
        assert text is column.text, column.header
    assert {c.header for c in COLUMNS if c.text} >= {"身份证号", "学籍号", "联系电话", "监护人1身份证号", "银行账号"}
    notes = " ".join(str(c.value) for row in book[INSTRUCTIONS_SHEET].iter_rows() for c in row if c.value)
    assert all(h in notes for h in HEADERS)
    assert "文本" in notes


def test_a_filled_in_template_imports(world, tenant_of, django_capture_on_commit_callbacks, tmp_path):
    client = _client(world.a.user(Role.SCHOOL_OFFICER))
    book = openpyxl.load_workbook(io.BytesIO(client.get(reverse("students:roster_template")).content))
    row = pupil(world.a, 姓名="模板里的学生")
    book[SHEET_NAME].append([row.get(h, "") for h in HEADERS])
    path = tmp_path / "filled.xlsx"
    book.save(path)

    _upload(client, path, django_capture_on_commit_callbacks)

    with tenant_of(world.a.tenant):
        job = Job.objects.get(kind="roster_import")
        assert Student.objects.filter(name="模板里的学生").exists()
    assert job.result["created"] == 1


def test_an_upload_runs_as_a_job_and_its_report_can_be_downloaded(
    world, tenant_of, django_capture_on_commit_callbacks, tmp_path
):
    a = world.a
    officer = a.user(Role.SCHOOL_OFFICER)
    client = _client(officer)
    path = write_roster(tmp_path / "三年级名册.xlsx", [pupil(a, 姓名="上传的学生"), pupil(a, 身份证号="123")])

    response = _upload(client, path, django_capture_on_commit_callbacks)

    with tenant_of(a.tenant):
        job = Job.objects.get(kind="roster_import")
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?job={job.pk}"
    assert job.status == "SUCCEEDED"
    assert job.actor_id == officer.pk
    assert job.params["name"] == "三年级名册.xlsx"
    assert job.params["file"] == f"roster/{a.tenant.pk}/{job.pk}/upload.xlsx"
    assert (job.result["created"], job.result["rejected"]) == (1, 1)
    assert job.result["errors"] == {"ID_LENGTH": 1}
    assert job.total == 2

    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="roster-created">1<' in body
    assert reverse("students:roster_report", args=[job.pk]) in body
    partial = client.get(reverse("schools:job", args=[job.pk])).content.decode()
    assert 'data-testid="roster-rejected">1<' in partial

    download = client.get(reverse("students:roster_report", args=[job.pk]))
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    report = tmp_path / "downloaded.xlsx"
    report.write_bytes(b"".join(download.streaming_content))
    rows = read_report(report)
    assert [r[3] for r in rows[1:]] == [str(OUTCOME_LABELS[CREATED]), str(OUTCOME_LABELS[REJECTED])]


def test_the_report_is_only_for_who_started_the_import_and_auditors(
    world, tenant_of, django_capture_on_commit_callbacks, tmp_path
):
    a = world.a
    _upload(
        _client(a.user(Role.SCHOOL_OFFICER)),
        write_roster(tmp_path / "r.xlsx", [pupil(a)]),
        django_capture_on_commit_callbacks,
    )
    with tenant_of(a.tenant):
        job = Job.objects.get(kind="roster_import")
        other_officer = user_with_role(a.tenant, Role.SCHOOL_OFFICER, a.schools["s2"])
    url = reverse("students:roster_report", args=[job.pk])
    assert _client(a.user(Role.DISTRICT_AUDITOR)).get(url).status_code == 200
    assert _client(other_officer).get(url).status_code == 404
    assert _client(a.user(Role.CLASS_TEACHER)).get(url).status_code == 404
    assert _client(world.b.user(Role.DISTRICT_AUDITOR)).get(url).status_code == 404
    # The job page of someone else's import answers like a missing one.
    assert _client(other_officer).get(f"{PAGE}?job={job.pk}").status_code == 404


def test_a_bad_file_is_refused_on_the_page_and_starts_no_job(
    world, tenant_of, django_capture_on_commit_callbacks, tmp_path
):
    junk = tmp_path / "名册.xlsx"
    junk.write_bytes(os.urandom(64 * 1024))

    response = _upload(_client(world.a.user(Role.SCHOOL_OFFICER)), junk, django_capture_on_commit_callbacks)

    assert response.status_code == 400
    assert "xlsx" in response.content.decode()
    assert 'data-testid="roster-error"' in response.content.decode()
    with tenant_of(world.a.tenant):
        assert not Job.objects.filter(kind="roster_import").exists()


def test_a_file_problem_found_by_the_job_is_shown_with_its_message(
    world, tenant_of, django_capture_on_commit_callbacks, tmp_path
):
    """Missing columns are found when the sheet is read, in the job: the job ends with the message."""
    client = _client(world.a.user(Role.DISTRICT_STAFF))
    path = write_roster(tmp_path / "cols.xlsx", [{"姓名": "x"}], headers=("学校标识码", "姓名", "身份证号"))

    response = _upload(client, path, django_capture_on_commit_callbacks)

    with tenant_of(world.a.tenant):
        job = Job.objects.get(kind="roster_import")
    assert job.result["error"] == "MISSING_COLUMNS"
    body = client.get(response["Location"]).content.decode()
    assert 'data-testid="roster-file-error"' in body
    assert "学籍状态" in body
    assert reverse("students:roster_report", args=[job.pk]) not in body


def test_an_upload_over_the_limit_is_refused_before_it_is_stored(
    world, settings, django_capture_on_commit_callbacks, tmp_path
):
    settings.MAX_UPLOAD_BYTES = 1024
    path = write_roster(tmp_path / "big.xlsx", [pupil(world.a) for _ in range(5)], text_columns=True)
    response = _upload(_client(world.a.user(Role.SCHOOL_OFFICER)), path, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert not any((tmp_path / "media").rglob("*.xlsx"))


def test_the_new_pupil_id_helper_never_repeats(world):
    assert len({new_id() for _ in range(50)}) == 50


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("reading", ["here", "beside"])
def test_a_real_worker_runs_the_import_through_redis(tmp_path, monkeypatch, reading):
    """Through Redis and a real (prefork) worker; "beside": the worker's import reads the rows in
    reader processes of its own, as for a large roster (students.roster.pipeline)."""
    from django.db import connection

    from core.tenancy.context import tenant_transaction
    from tests.factories import build_world
    from tests.workers import running_worker

    if reading == "beside" and connection.vendor != "postgresql":
        pytest.skip("rows are read beside the import on PostgreSQL only")
    monkeypatch.setenv("ROSTER_PARALLEL_ROWS", "1" if reading == "beside" else "0")
    world = build_world()
    client = _client(world.a.user(Role.SCHOOL_OFFICER))
    path = write_roster(tmp_path / "w.xlsx", [pupil(world.a), pupil(world.a, klass="c2")])
    with running_worker():
        with path.open("rb") as f:
            response = client.post(PAGE, {"file": SimpleUploadedFile("w.xlsx", f.read())})
        assert response.status_code == 302
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with tenant_transaction(world.a.tenant.pk):
                job = Job.objects.get(kind="roster_import")
            if job.is_finished:
                break
            time.sleep(0.2)
    assert job.status == "SUCCEEDED", job.message
    assert job.result["created"] == 2
    assert client.get(reverse("students:roster_report", args=[job.pk])).status_code == 200
