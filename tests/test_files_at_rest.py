"""No personal number left in clear on disk (issue 18, item 2): roster and registry uploads are deleted
when their job ends, reports hold masked numbers, evidence is encrypted, every file is private (0600),
and what a job that never ended left is swept after a day."""

from __future__ import annotations

import datetime as dt
import os
import stat
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audits.registry.jobs import registry_upload
from audits.registry.tasks import registry_import_task
from core import storage
from core.tasks import sweep_uploads
from schools.models import Job
from schools.permissions import Role
from students import idcard
from students.models import Attachment
from students.roster.tasks import roster_import_task
from students.tests.test_roster_support import pupil, write_roster


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _plaintext_on_disk(root: Path, secrets: list[str]) -> list[str]:
    """Every (file, secret) where a secret stands in clear: in the bytes, or inside a zip's members
    (an xlsx compresses its XML, so a byte scan alone would find nothing)."""
    found = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        blobs = [path.read_bytes()]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                blobs += [archive.read(member) for member in archive.namelist()]
        found += [f"{path.name}: {s}" for s in secrets for blob in blobs if s.encode() in blob]
    return found


def _private(root: Path) -> list[str]:
    """Files and folders anyone but the app's user could read."""
    loose = []
    for path in root.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            loose.append(f"{path.relative_to(root)} {oct(mode)}")
    return loose


def _run(task, job, user):
    task.apply(kwargs={"tenant_id": str(job.tenant_id), "actor_id": str(user.pk), "job_id": str(job.pk)}, throw=True)


def test_a_roster_upload_is_gone_when_its_import_ends_and_its_report_is_masked(
    world, tenant_of, django_capture_on_commit_callbacks, tmp_path, media_root
):
    a = world.a
    officer = a.user(Role.SCHOOL_OFFICER)
    rows = [pupil(a, 姓名="甲"), pupil(a, 姓名="乙", 身份证号="4106221234")]  # a bad row goes to the report
    secrets = [rows[0]["身份证号"], rows[0]["银行账号"], rows[0]["联系电话"], rows[0]["监护人1身份证号"]]
    path = write_roster(tmp_path / "名册.xlsx", rows)
    client = Client()
    client.force_login(officer)
    with path.open("rb") as f, django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("students:roster"), {"file": SimpleUploadedFile("名册.xlsx", f.read())})
    assert response.status_code == 302
    with tenant_of(a.tenant):
        job = Job.objects.get(kind="roster_import")
    upload = Path(media_root) / job.params["file"]
    assert upload.is_file()
    assert _private(Path(media_root)) == []  # stored 0600 in 0700 folders while the job waits
    _run(roster_import_task, job, officer)
    with tenant_of(a.tenant):
        job.refresh_from_db()
    assert job.status == "SUCCEEDED", job.message
    assert not upload.exists()
    assert (upload.parent / "report.xlsx").is_file()
    assert _plaintext_on_disk(Path(media_root), secrets) == []
    assert _private(Path(media_root)) == []


def test_a_registry_upload_is_gone_when_its_import_ends(
    world, tenant_of, django_capture_on_commit_callbacks, media_root
):
    w = world.a
    district = w.users[Role.DISTRICT_STAFF]
    numbers = [idcard.compose("410622", dt.date(1980, 3, 3), seq, idcard.Sex.FEMALE) for seq in (11, 12)]
    text = "姓名,身份证号,类别\n张三,{},低保\n李四,{},特困供养\n王五,123,低保\n".format(*numbers)
    with tenant_of(w.tenant), django_capture_on_commit_callbacks(execute=False):
        job = registry_upload(
            upload=SimpleUploadedFile("低保.csv", text.encode()), actor=district, source="CIVIL", mapping=None,
            taken_on=dt.date(2026, 11, 30),
        )  # fmt: skip
    upload = Path(media_root) / job.params["file"]
    assert upload.is_file()
    _run(registry_import_task, job, district)
    with tenant_of(w.tenant):
        job.refresh_from_db()
    assert job.status == "SUCCEEDED", job.message
    assert not upload.exists()
    assert _plaintext_on_disk(Path(media_root), numbers) == []
    assert _private(Path(media_root)) == []


def test_evidence_is_encrypted_at_rest_and_served_decrypted(world, tenant_of, media_root):
    teacher = world.a.users[Role.CLASS_TEACHER]
    application = world.a.applications["c1"]
    secret = "身份证号 " + idcard.compose("410622", dt.date(1985, 1, 2), 321, idcard.Sex.MALE)
    content = b"%PDF-1.4\n" + secret.encode() + b"\n%%EOF\n"
    client = Client()
    client.force_login(teacher)
    response = client.post(
        reverse("students:application_attach", args=[application.pk]),
        {"kind": "OTHER", "file": SimpleUploadedFile("证明.pdf", content, content_type="application/pdf")},
    )
    assert response.status_code == 302
    with tenant_of(world.a.tenant):
        attachment = Attachment.objects.get(application=application, original_name="证明.pdf")
    assert _plaintext_on_disk(Path(media_root), [secret]) == []
    assert _private(Path(media_root)) == []
    served = client.get(reverse("students:attachment", args=[attachment.pk]))
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == content


def test_uploads_left_by_jobs_that_never_ended_are_swept_after_a_day(settings, media_root):
    settings.UPLOAD_RETENTION_HOURS = 24
    folder = Path(media_root) / "roster" / "t" / "job"
    old, fresh = folder / "upload.xlsx", Path(media_root) / "roster" / "t" / "job2" / "upload.xlsx"
    report = folder / "report.xlsx"
    for path in (old, fresh, report):
        storage.write_private(path, [b"x"])
    two_days_ago = time.time() - 48 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    os.utime(report, (two_days_ago, two_days_ago))
    assert sweep_uploads.apply().get() == 1
    assert not old.exists()
    assert fresh.exists()
    assert report.exists()  # the row report (masked) stays with its job
