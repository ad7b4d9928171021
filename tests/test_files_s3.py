"""Files on an S3-compatible store (issue 22, item 4): with FILE_STORAGE=s3 every upload, report and piece
of evidence goes through django-storages to a bucket, encrypted before it leaves the app. These tests run
against a real S3 server (moto in server mode, on a free local port), not a mock of boto3: the roster
upload → job → report, a department's list, a bank return, evidence, and the sweep of leftovers. After
each, every object in the bucket is read back and scanned for the numbers in clear."""

from __future__ import annotations

import datetime as dt
import io
import socket
import uuid
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from python_calamine import CalamineWorkbook

from audits.registry.jobs import registry_upload
from audits.registry.tasks import registry_import_task
from core import storage
from core.crypto import FILE_MAGIC
from disbursements.models import BatchStatus
from disbursements.tests.test_exports import release
from disbursements.tests.test_returns import answer, csv_file, roster
from schools.models import Job
from schools.permissions import Role
from students import idcard
from students.models import Attachment
from students.roster.tasks import roster_import_task
from students.tests.test_roster_support import pupil, write_roster

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3-compatible server (moto's server mode: HTTP, S3's API) for the whole session."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


class Bucket:
    def __init__(self, endpoint: str, name: str) -> None:
        self.client = boto3.client("s3", endpoint_url=endpoint, **KEYS)
        self.name = name
        self.client.create_bucket(Bucket=name)

    def objects(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def plaintext(self, secrets: list[str]) -> list[str]:
        """Every (object, secret) where a secret stands in clear, in the bytes or inside a zip's members."""
        found = []
        for key in self.objects():
            data = self.read(key)
            blobs = [data]
            if zipfile.is_zipfile(io.BytesIO(data)):
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    blobs += [archive.read(member) for member in archive.namelist()]
            found += [f"{key}: {s}" for s in secrets for blob in blobs if s.encode() in blob]
        return found

    def unsealed(self) -> list[str]:
        """Objects that do not start with the encryption's header (every one must)."""
        return [key for key in self.objects() if not self.read(key).startswith(FILE_MAGIC)]


@pytest.fixture
def bucket(settings, s3_endpoint, tmp_path):
    """FILE_STORAGE=s3 as config/settings.py sets it, on a fresh bucket; nothing may land on the disk."""
    name = f"files-{uuid.uuid4().hex[:12]}"
    b = Bucket(s3_endpoint, name)
    settings.MEDIA_ROOT = tmp_path / "media-must-stay-empty"
    settings.AWS_STORAGE_BUCKET_NAME = name
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_S3_REGION_NAME = KEYS["region_name"]
    settings.AWS_ACCESS_KEY_ID = KEYS["aws_access_key_id"]
    settings.AWS_SECRET_ACCESS_KEY = KEYS["aws_secret_access_key"]
    settings.AWS_DEFAULT_ACL = None
    backend = "core.storage_s3.EncryptedS3Storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": backend, "OPTIONS": {"file_overwrite": False}},
        "uploads": {"BACKEND": backend, "OPTIONS": {"location": "uploads", "file_overwrite": False}},
    }
    yield b
    assert not settings.MEDIA_ROOT.exists()  # nothing went to the local disk


def _run(task, job, user):
    task.apply(kwargs={"tenant_id": str(job.tenant_id), "actor_id": str(user.pk), "job_id": str(job.pk)}, throw=True)


def test_the_storages_are_s3_when_the_settings_say_so(bucket):
    from core.storage_s3 import EncryptedS3Storage

    assert isinstance(storage.uploads(), EncryptedS3Storage)
    name = storage.uploads().save("probe/x.txt", io.BytesIO(b"hello"))
    assert bucket.objects() == [f"uploads/{name}"]
    assert bucket.read(f"uploads/{name}").startswith(FILE_MAGIC)
    with storage.uploads().open(name) as f:
        assert f.read() == b"hello"


def test_a_roster_upload_goes_to_the_bucket_its_job_reads_it_there_and_its_report_is_served(
    world, tenant_of, django_capture_on_commit_callbacks, tmp_path, bucket
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
    upload = f"uploads/{job.params['file']}"
    assert bucket.objects() == [upload]  # stored in the bucket, sealed, while the job waits
    assert bucket.plaintext(secrets) == []
    assert bucket.unsealed() == []
    _run(roster_import_task, job, officer)
    with tenant_of(a.tenant):
        job.refresh_from_db()
    assert job.status == "SUCCEEDED", job.message
    assert (job.result["created"], job.result["rejected"]) == (1, 1)
    report = f"uploads/roster/{a.tenant.pk}/{job.pk}/report.xlsx"
    assert bucket.objects() == [report]  # the upload is gone; the report stays
    assert bucket.plaintext(secrets) == []
    assert bucket.unsealed() == []
    served = client.get(reverse("students:roster_report", args=[job.pk]))
    assert served.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(served.streaming_content)))
    cells = [str(c) for row in book.get_sheet_by_name(book.sheet_names[0]).to_python() for c in row]
    assert any("乙" in c for c in cells)
    assert not any(s in c for s in secrets for c in cells)


def test_a_registry_upload_is_imported_from_the_bucket_and_gone_when_its_import_ends(
    world, tenant_of, django_capture_on_commit_callbacks, bucket
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
    assert bucket.objects() == [f"uploads/{job.params['file']}"]
    assert bucket.plaintext(numbers) == []
    _run(registry_import_task, job, district)
    with tenant_of(w.tenant):
        job.refresh_from_db()
    assert job.status == "SUCCEEDED", job.message
    assert (job.result["kept"], job.result["rejected"]) == (2, 1)
    assert bucket.objects() == [f"uploads/{job.result['report']}"]
    assert bucket.plaintext(numbers) == []
    assert bucket.unsealed() == []
    client = Client()
    client.force_login(district)
    served = client.get(reverse("registry:report", args=[job.pk]))
    assert served.status_code == 200
    assert zipfile.is_zipfile(io.BytesIO(b"".join(served.streaming_content)))


def test_a_bank_return_is_read_and_leaves_nothing_in_the_bucket(world, tenant_of, bucket):
    with tenant_of(world.a.tenant):
        released = release(world.a)
        lines = roster(released.batch, released.district)
    accounts = [line["账号"] for line in lines]
    data = csv_file([answer(line) for line in lines], encoding="gb18030").getvalue()
    client = Client()
    client.force_login(released.district)
    response = client.post(
        reverse("disbursements:return_import", args=[released.batch.pk]),
        {"file": SimpleUploadedFile("回盘.csv", data, content_type="text/csv")},
    )
    assert response.status_code == 302
    with tenant_of(world.a.tenant):
        released.batch.refresh_from_db()
    assert released.batch.status == BatchStatus.CLOSED
    assert bucket.plaintext(accounts) == []
    assert bucket.objects() == []  # read from a private scratch folder, never stored


def test_evidence_is_sealed_in_the_bucket_and_served_decrypted(world, tenant_of, bucket):
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
    assert bucket.objects() == [attachment.file.name]  # evidence/<tenant>/…
    assert bucket.plaintext([secret]) == []
    assert bucket.unsealed() == []
    served = client.get(reverse("students:attachment", args=[attachment.pk]))
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == content


def test_the_sweep_lists_the_bucket_and_removes_only_uploads_older_than_the_limit(bucket):
    uploads = storage.uploads()
    old = uploads.save("roster/t/job/upload.xlsx", io.BytesIO(b"x"))
    report = uploads.save("roster/t/job/report.xlsx", io.BytesIO(b"x"))
    other = uploads.save("registry/t/job/upload", io.BytesIO(b"x"))
    # An object's age is the store's own clock (S3 cannot backdate one): nothing is an hour old yet...
    assert storage.sweep_uploads("roster", names=["upload.xlsx"], older_than_seconds=3600) == 0
    # ...and with a limit in the future, the roster's upload is old, its report and other folders are not.
    assert storage.sweep_uploads("roster", names=["upload.xlsx"], older_than_seconds=-60) == 1
    assert not uploads.exists(old)
    assert uploads.exists(report)
    assert uploads.exists(other)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_reads_the_upload_from_the_bucket_and_stores_the_report_there(
    tmp_path, monkeypatch, bucket, s3_endpoint, settings
):
    """Through Redis and a real worker process configured as a deployment would be (FILE_STORAGE=s3 and
    the AWS_* variables): it shares nothing with the web process but the database and the bucket. On
    PostgreSQL the roster's rows are read by reader processes of their own, from the scratch copy."""
    import time

    from django.db import connection

    from core.tenancy.context import tenant_transaction
    from tests.factories import build_world
    from tests.workers import running_worker

    for key, value in {
        "FILE_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": bucket.name,
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_S3_REGION_NAME": KEYS["region_name"],
        "AWS_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
        "ROSTER_PARALLEL_ROWS": "1" if connection.vendor == "postgresql" else "0",
    }.items():
        monkeypatch.setenv(key, value)
    world = build_world()
    officer = world.a.user(Role.SCHOOL_OFFICER)
    rows = [pupil(world.a), pupil(world.a, klass="c2")]
    path = write_roster(tmp_path / "w.xlsx", rows)
    client = Client()
    client.force_login(officer)
    with running_worker():
        with path.open("rb") as f:
            response = client.post(reverse("students:roster"), {"file": SimpleUploadedFile("w.xlsx", f.read())})
        assert response.status_code == 302
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with tenant_transaction(world.a.tenant.pk):
                job = Job.objects.get(kind="roster_import")
            if job.is_finished:
                break
            time.sleep(0.2)
    assert job.status == "SUCCEEDED", job.message
    assert job.result["created"] == 2
    # The world's evidence is there too (evidence/…); of the job, only its report.
    assert [key for key in bucket.objects() if key.startswith("uploads/")] == [f"uploads/{job.result['report']}"]
    assert bucket.plaintext([rows[0]["身份证号"], rows[1]["身份证号"]]) == []
    assert bucket.unsealed() == []
    assert client.get(reverse("students:roster_report", args=[job.pk])).status_code == 200
