"""The identified-list import (认定名单迁移): page and permission, template, job, rows, idempotence, wall."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from python_calamine import CalamineWorkbook

from core import storage
from core.audit.models import AuditEvent
from schools.models import Job
from schools.permissions import Role
from students.identification.migration.columns import COLUMNS, HEADERS, INSTRUCTIONS_SHEET, SHEET_NAME
from students.identification.migration.services import AUDIT_ACTION, JOB_KIND
from students.identification.migration.tasks import identification_migration_task
from students.models import ApplicationDecision, ApplicationStatus, HardshipApplication, Tier
from students.tests.test_roster_support import new_id

PAGE = reverse("students:identification_migration")
S = ApplicationStatus


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _full_id(student) -> str:
    value = student.id_number
    return value.reveal() if hasattr(value, "reveal") else str(value)


def row_for(w, pupil, *, klass: str = "c1", **cells: Any) -> dict[str, Any]:
    """A valid list row for a pupil of tenant world `w` (headers → values); override cells by header."""
    k = w.classes[klass]
    school = next(s for s in w.schools.values() if s.pk == k.school_id)
    values = {
        "学校标识码": school.code,
        "学段": {"PRIMARY": "小学", "JUNIOR": "初中"}[k.grade.stage],
        "入学年份": k.grade.entry_year,
        "班号": k.number,
        "姓名": pupil.name,
        "身份证号": _full_id(pupil),
        "认定档次": "困难",
        "困难类别": "低保、ORPHAN",
        "家庭经济情况": "父亲因病丧失劳动能力",
        "申请日期": dt.date(2026, 9, 15),
        "班级评议日期": "2026-09-22",
        "学校审核日期": "2026/10/08",
        "认定日期": dt.date(2026, 10, 20),
    }
    values.update(cells)
    return values


def write_list(path: Path, rows: list[dict[str, Any]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = SHEET_NAME
    sheet.append(list(HEADERS))
    for row in rows:
        sheet.append([row.get(h, "") for h in HEADERS])
    book.save(path)
    return path


def upload(client: Client, path: Path, year: int, django_capture_on_commit_callbacks):
    """POST the file for `year`; then run the job's task here, as a worker would after the commit."""
    with path.open("rb") as f, django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(PAGE, {"academic_year": str(year), "file": SimpleUploadedFile(path.name, f.read())})
    if response.status_code == 302:
        assert len(callbacks) == 1
        user = response.wsgi_request.user
        job_id = response["Location"].rsplit("=", 1)[1]
        kwargs = {"tenant_id": str(user.tenant_id), "actor_id": str(user.pk), "job_id": job_id}
        identification_migration_task.apply(kwargs=kwargs, throw=True)
    return response


def _job(tenant_of, w) -> Job:
    with tenant_of(w.tenant):
        return Job.objects.filter(kind=JOB_KIND).order_by("-created_at").first()


def _report(settings, job) -> list[list[Any]]:
    # Through the storage: the report is encrypted at rest.
    with storage.uploads().open(job.result["report"], "rb") as stored:
        book = CalamineWorkbook.from_filelike(io.BytesIO(stored.read()))
    return book.get_sheet_by_name(book.sheet_names[0]).to_python()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.DISTRICT_STAFF, 200),
        (Role.TENANT_ADMIN, 403),
        (Role.DISTRICT_AUDITOR, 403),
        (Role.SCHOOL_OFFICER, 403),
        (Role.PRINCIPAL, 403),
        (Role.GRADE_LEADER, 403),
        (Role.CLASS_TEACHER, 403),
    ],
)
def test_only_the_district_center_may_import_identified_pupils(world, role, status):
    client = _client(world.a.user(role))
    assert client.get(PAGE).status_code == status
    assert client.get(reverse("students:identification_migration_template")).status_code == status
    assert client.post(PAGE, {"academic_year": "2026"}).status_code in (status, 400)


def test_the_template_keeps_id_numbers_as_text_and_explains_every_column(world):
    response = _client(world.a.user(Role.DISTRICT_STAFF)).get(reverse("students:identification_migration_template"))
    assert "attachment" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [SHEET_NAME, INSTRUCTIONS_SHEET]
    sheet = book[SHEET_NAME]
    assert tuple(c.value for c in sheet[1]) == HEADERS
    id_column = HEADERS.index("身份证号") + 1
    letter = openpyxl.utils.get_column_letter(id_column)
    assert sheet.column_dimensions[letter].number_format == "@"
    assert sheet.cell(row=2, column=id_column).number_format == "@"
    assert sheet.cell(row=2, column=HEADERS.index("姓名") + 1).number_format != "@"
    notes = " ".join(str(c.value) for row in book[INSTRUCTIONS_SHEET].iter_rows() for c in row if c.value)
    assert all(c.header in notes for c in COLUMNS)


def test_a_good_list_becomes_migrated_identifications_with_their_dates(
    world, tenant_of, settings, django_capture_on_commit_callbacks, tmp_path
):
    a = world.a
    staff = a.user(Role.DISTRICT_STAFF)
    first, second = a.students["c1"][0], a.students["c4"][0]
    path = write_list(
        tmp_path / "2026认定名单.xlsx",
        [
            row_for(a, first),
            row_for(a, second, klass="c4", 认定档次="特别困难", 困难类别="", 申请日期="", 班级评议日期=""),
        ],
    )
    response = upload(_client(staff), path, 2026, django_capture_on_commit_callbacks)
    assert response.status_code == 302

    job = _job(tenant_of, a)
    assert job.status == "SUCCEEDED", job.message
    assert (job.result["imported"], job.result["rejected"], job.result["applied"]) == (2, 0, True)
    with tenant_of(a.tenant):
        app = HardshipApplication.objects.get(student=first, academic_year=2026)
        assert (app.status, app.tier, app.migrated) == (S.IDENTIFIED, Tier.DIFFICULT, True)
        assert sorted(app.categories) == ["DIBAO", "ORPHAN"]
        assert app.identified_on == dt.date(2026, 10, 20)
        assert (app.school_id, app.klass_id) == (a.schools["s1"].pk, a.classes["c1"].pk)
        steps = list(app.decisions.order_by("decided_on").values_list("decided_on", "to_status", "migrated", "actor"))
        assert steps == [
            (dt.date(2026, 9, 15), S.CLASS_EVALUATION, True, None),
            (dt.date(2026, 9, 22), S.GRADE_REVIEW, True, None),
            (dt.date(2026, 10, 8), S.SCHOOL_APPROVED, True, None),
            (dt.date(2026, 10, 20), S.IDENTIFIED, True, None),
        ]
        other = HardshipApplication.objects.get(student=second, academic_year=2026)
        assert (other.tier, other.categories, other.klass_id) == (Tier.SPECIAL, [], a.classes["c4"].pk)
        assert list(other.decisions.values_list("to_status", flat=True).order_by("decided_on")) == [
            S.SCHOOL_APPROVED,
            S.IDENTIFIED,
        ]
        # The file and who imported it are in the trail; each new row is audited too.
        event = AuditEvent.objects.get(action=AUDIT_ACTION)
        assert event.after["sha256"] == job.result["sha256"]
        assert len(event.after["sha256"]) == 64
        assert (event.after["file"], event.after["academic_year"], event.after["imported"]) == (path.name, 2026, 2)
        assert str(event.actor_id) == str(staff.pk)
        assert AuditEvent.objects.filter(action="application.migrate", object_id=str(app.pk)).exists()
    # The pupil's file tells the story in the list's order and dates, marked as migrated.
    page = _client(staff).get(reverse("students:application", args=[app.pk])).content.decode()
    dates = [page.find(d) for d in ("2026年9月15日", "2026年9月22日", "2026年10月8日", "2026年10月20日")]
    assert -1 not in dates
    assert dates == sorted(dates)
    assert page.count('data-testid="migrated"') == 4
    # The upload is gone; the report masks the numbers.
    assert not list(Path(settings.MEDIA_ROOT).rglob("upload.xlsx"))
    report = _report(settings, job)
    assert len(report) == 3
    assert _full_id(first) not in str(report)
    assert _full_id(first)[-4:] in str(report[1][2])


def test_importing_the_same_file_again_changes_nothing(
    world, tenant_of, settings, django_capture_on_commit_callbacks, tmp_path
):
    a = world.a
    client = _client(a.user(Role.DISTRICT_STAFF))
    path = write_list(
        tmp_path / "list.xlsx", [row_for(a, a.students["c1"][0]), row_for(a, a.students["c2"][0], klass="c2")]
    )
    upload(client, path, 2026, django_capture_on_commit_callbacks)
    with tenant_of(a.tenant):
        before = (
            HardshipApplication.objects.count(),
            ApplicationDecision.objects.count(),
            AuditEvent.objects.filter(action__in=[AUDIT_ACTION, "application.migrate"]).count(),
        )
    upload(client, path, 2026, django_capture_on_commit_callbacks)
    job = _job(tenant_of, a)
    assert (job.result["imported"], job.result["unchanged"], job.result["applied"]) == (0, 2, False)
    with tenant_of(a.tenant):
        after = (
            HardshipApplication.objects.count(),
            ApplicationDecision.objects.count(),
            AuditEvent.objects.filter(action__in=[AUDIT_ACTION, "application.migrate"]).count(),
        )
    assert after == before


def test_a_pupil_with_a_live_application_is_reported_not_duplicated(
    world, tenant_of, settings, django_capture_on_commit_callbacks, tmp_path
):
    a = world.a
    nominated = a.students["c1"][1]  # the world's application of 2026, in class evaluation
    path = write_list(tmp_path / "list.xlsx", [row_for(a, nominated), row_for(a, a.students["c1"][0])])
    upload(_client(a.user(Role.DISTRICT_STAFF)), path, 2026, django_capture_on_commit_callbacks)
    job = _job(tenant_of, a)
    assert (job.result["imported"], job.result["existing"]) == (1, 1)
    with tenant_of(a.tenant):
        assert HardshipApplication.objects.filter(student=nominated, academic_year=2026).count() == 1
        assert HardshipApplication.objects.get(student=nominated).status == S.CLASS_EVALUATION
    report = _report(settings, job)
    assert "已有" in report[1][5] or "already" in report[1][5]


def test_an_earlier_year_is_imported_as_that_year(world, tenant_of, django_capture_on_commit_callbacks, tmp_path):
    a = world.a
    nominated = a.students["c1"][1]  # has a 2026 application: 2025 is another year
    path = write_list(
        tmp_path / "2025.xlsx",
        [row_for(a, nominated, 认定日期="2025-10-30", 申请日期="", 班级评议日期="", 学校审核日期="")],
    )
    upload(_client(a.user(Role.DISTRICT_STAFF)), path, 2025, django_capture_on_commit_callbacks)
    assert _job(tenant_of, a).result["imported"] == 1
    with tenant_of(a.tenant):
        assert HardshipApplication.objects.get(student=nominated, academic_year=2025).status == S.IDENTIFIED


def test_bad_rows_are_rejected_with_their_reasons_and_nothing_is_imported(
    world, tenant_of, settings, django_capture_on_commit_callbacks, tmp_path
):
    a = world.a
    good = a.students["c1"][0]
    rows = [
        row_for(a, good),
        row_for(a, a.students["c2"][0], klass="c2", 身份证号="41062220150615002"),  # 17 characters
        row_for(a, a.students["c2"][1], klass="c2", 身份证号=new_id()),  # valid, but nobody's
        row_for(a, a.students["c3"][0], klass="c3", 认定档次="很困难"),
        row_for(a, a.students["c3"][1], klass="c3", 困难类别="低保、火星户"),
        row_for(a, a.students["c4"][0], klass="c4", 认定日期="去年秋天"),
        row_for(
            a, a.students["c4"][1], klass="c4", 认定日期="2024-10-20", 申请日期="", 班级评议日期="", 学校审核日期=""
        ),
        row_for(a, good, 姓名=good.name),  # the same pupil twice
    ]
    path = write_list(tmp_path / "bad.xlsx", rows)
    with tenant_of(a.tenant):
        before = HardshipApplication.objects.count()
    upload(_client(a.user(Role.DISTRICT_STAFF)), path, 2026, django_capture_on_commit_callbacks)
    job = _job(tenant_of, a)
    assert job.status == "SUCCEEDED"
    assert (job.result["applied"], job.result["imported"], job.result["rejected"]) == (False, 0, 7)
    assert set(job.result["errors"]) == {
        "ID_LENGTH", "UNKNOWN_PUPIL", "UNKNOWN_TIER", "UNKNOWN_CATEGORY", "DATE_INVALID", "DATE_OUTSIDE_YEAR",
        "DUPLICATE_IN_FILE",
    }  # fmt: skip
    with tenant_of(a.tenant):
        assert HardshipApplication.objects.count() == before
        assert not AuditEvent.objects.filter(action__in=[AUDIT_ACTION, "application.migrate"]).exists()
    report = _report(settings, job)
    assert [r[4] for r in report[2:]] == [
        "ID_LENGTH", "UNKNOWN_PUPIL", "UNKNOWN_TIER", "UNKNOWN_CATEGORY", "DATE_INVALID", "DATE_OUTSIDE_YEAR",
        "DUPLICATE_IN_FILE",
    ]  # fmt: skip
    assert "火星户" in report[5][5]


def test_another_tenants_pupil_is_unknown_and_left_alone(
    world, tenant_of, django_capture_on_commit_callbacks, tmp_path
):
    a, b = world.a, world.b
    theirs = b.students["c1"][0]
    path = write_list(tmp_path / "list.xlsx", [row_for(a, theirs)])  # A's class, B's pupil
    upload(_client(a.user(Role.DISTRICT_STAFF)), path, 2026, django_capture_on_commit_callbacks)
    job = _job(tenant_of, a)
    assert (job.result["rejected"], job.result["errors"]) == (1, {"UNKNOWN_PUPIL": 1})
    with tenant_of(b.tenant):
        assert not HardshipApplication.objects.filter(student=theirs, migrated=True).exists()
    # And B's staff cannot read A's job or its report.
    client_b = _client(b.user(Role.DISTRICT_STAFF))
    assert client_b.get(f"{PAGE}?job={job.pk}").status_code == 404
    assert client_b.get(reverse("students:identification_migration_report", args=[job.pk])).status_code == 404


def test_a_file_that_is_not_a_workbook_is_refused_on_the_page(
    world, tenant_of, django_capture_on_commit_callbacks, tmp_path
):
    path = tmp_path / "list.xlsx"
    path.write_bytes(b"name,id\n")
    response = upload(_client(world.a.user(Role.DISTRICT_STAFF)), path, 2026, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert _job(tenant_of, world.a) is None


def test_a_year_outside_the_choices_is_a_form_error(world, django_capture_on_commit_callbacks, tmp_path):
    a = world.a
    path = write_list(tmp_path / "list.xlsx", [row_for(a, a.students["c1"][0])])
    response = upload(_client(a.user(Role.DISTRICT_STAFF)), path, 2015, django_capture_on_commit_callbacks)
    assert response.status_code == 400
