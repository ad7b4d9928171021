"""Building a batch as a background job through a real Celery worker on Redis: the page starts the job
and shows its progress, a double click gets the same job and one batch, and a worker killed after the
batch was committed (before the job was marked finished) leaves a job the sweep sends again, which
finishes exactly once, on the batch already built."""

from __future__ import annotations

import pytest
from django.test import Client

from core.tenancy.context import tenant_transaction
from disbursements.models import Batch, BatchKind, PaymentLine
from disbursements.services.batches import batch_build_start
from schools.models import Job, JobStatus
from schools.permissions import Role
from tests.factories import PASSWORD, make_semester
from tests.money import approved_list, identify
from tests.test_job_sweep_worker import _dead_and_stale, _kill_worker_while_running, _sweep_and_finish
from tests.workers import running_worker, wait_for_job

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _paid_world():
    """Tenant A with s1's living subsidy of spring (two c2 pupils) approved, nothing paid yet."""
    from tests.factories import build_world

    w = build_world().a
    with tenant_transaction(w.tenant.pk):
        semester = make_semester(academic_year=2026, term="SPRING")
        for pupil in w.students["c2"]:
            identify(w, pupil)
        approved_list(w, program_code="LIVING_SUBSIDY", semester=semester)
    return w, semester


def test_the_page_starts_the_build_on_a_real_worker_and_a_double_click_builds_one_batch():
    w, semester = _paid_world()
    client = Client()
    client.login(username=w.users[Role.DISTRICT_STAFF].username, password=PASSWORD)
    form = {"semester": str(semester.pk), "kind": BatchKind.FIRST}
    with running_worker():
        first = client.post("/disbursements/build/", form)
        second = client.post("/disbursements/build/", form)  # the double click
        assert first.status_code == second.status_code == 302
        assert "job=" in first["Location"]
        with tenant_transaction(w.tenant.pk):
            started = list(Job.objects.filter(kind="batch_build").order_by("created_at"))
        # The second click gets the first job while it waits or runs; once it is done, a second job
        # finds the first batch and is refused: never two batches.
        done = [wait_for_job(w.tenant.pk, j.pk, lambda j: j.is_finished) for j in started]
    job = done[0]
    assert job.status == JobStatus.SUCCEEDED, job.message
    assert (job.result["lines"], job.result["already_built"], job.attempts) == (2, False, 1)
    for later in done[1:]:
        assert later.result["refused"]
    with tenant_transaction(w.tenant.pk):
        batch = Batch.objects.get(semester=semester)  # one batch
        assert job.result["batch"] == str(batch.pk)
        assert batch.build_job_id == job.pk
        assert PaymentLine.objects.filter(batch=batch).count() == 2
    page = client.get(first["Location"])
    body = page.content.decode()
    assert 'data-testid="batch-result"' in body
    assert f"/disbursements/{batch.pk}/" in body


def test_a_build_whose_worker_was_killed_after_the_commit_is_swept_and_finishes_exactly_once(monkeypatch):
    w, semester = _paid_world()

    def start() -> Job:
        with tenant_transaction(w.tenant.pk):  # the task is sent when this commits
            return batch_build_start(actor=w.users[Role.DISTRICT_STAFF], semester=semester, kind=BatchKind.FIRST)

    def committed(_job) -> bool:
        with tenant_transaction(w.tenant.pk):
            return Batch.objects.filter(semester=semester).exists()

    job = _kill_worker_while_running(
        start, hook="tests.hooks.pause_batch_build", monkeypatch=monkeypatch, written=committed
    )
    _dead_and_stale(job)
    finished = _sweep_and_finish(job)
    assert finished.result["already_built"] is True
    assert finished.result["lines"] == 2
    with tenant_transaction(w.tenant.pk):
        batch = Batch.objects.get(semester=semester)  # exactly one
        assert finished.result["batch"] == str(batch.pk)
        assert PaymentLine.objects.filter(batch=batch).count() == 2
