"""Real workers killed during a job: the sweep (schools.jobs.jobs_sweep, Celery beat every 30 s) sends
the job's task again once its heartbeat is stale, a new worker runs it, and it finishes exactly once,
on attempt 2. Killed here: the whole worker (the solo pool runs the task in the main process), or only
the prefork child running the task, whose redelivered message finds the job still beating and is
acked, leaving the job to the sweep.

Time is not waited for: once the worker is dead, the test moves the job's heartbeat back in time."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audits.models import Finding, ReconciliationRun
from audits.reconciliation.services import reconciliation_start
from audits.tasks import VERIFY_JOB_KIND, verify_chain
from config.celery import app
from core.tenancy.context import tenant_transaction
from schools import jobs
from schools.models import Job, JobStatus
from schools.permissions import Role
from schools.tasks import sweep_jobs
from students.models import Student
from students.roster.services import roster_upload
from students.tests.test_roster_support import pupil, write_roster
from tests.workers import job_now, running_worker, wait_for_job

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _until(condition, what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"still waiting for {what}")


def _children(pid: int) -> list[int]:
    """The processes `pid` started (the prefork pool's children), from /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _queue_settled(queue: str) -> bool:
    """No message of the test's queue waits in Redis or is delivered and not yet acknowledged."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    unacked = [json.loads(raw) for raw in client.hvals("unacked")]
    return client.llen(queue) == 0 and not any(queue in entry[1:] for entry in unacked)


def _kill_worker_while_running(
    job_start, *, hook: str, monkeypatch, written=lambda job: True, settle: float = 2
) -> Job:
    """Start the job on a solo worker that pauses inside the job (the hook), SIGKILL the worker there."""
    monkeypatch.setenv("TEST_WORKER_POOL", "solo")
    with running_worker(include=(hook,)) as worker:
        job = job_start()
        wait_for_job(job.tenant_id, job.pk, lambda j: j.status == JobStatus.RUNNING and written(j), seconds=60)
        time.sleep(settle)  # inside the pause now
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    monkeypatch.delenv("TEST_WORKER_POOL")
    return job


def _dead_and_stale(job: Job) -> None:
    """The job a dead worker left: running, attempt 1; then STALE_AFTER passes (its heartbeat set back)."""
    with tenant_transaction(job.tenant_id):
        stored = Job.objects.get(pk=job.pk)
        assert (stored.status, stored.attempts) == (JobStatus.RUNNING, 1)
        assert stored.heartbeat_at > timezone.now() - jobs.STALE_AFTER  # beating until it died
        Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - jobs.STALE_AFTER - dt.timedelta(seconds=1))


def _sweep_and_finish(job: Job) -> Job:
    """With a new worker running: the sweep sends the task again and the job finishes, once."""
    with running_worker():
        assert sweep_jobs() == 1
        finished = wait_for_job(job.tenant_id, job.pk, lambda j: j.is_finished)
        assert sweep_jobs() == 0  # a finished job is never sent again
    assert finished.status == JobStatus.SUCCEEDED, finished.message
    assert finished.attempts == 2
    assert finished.result["attempt"] == 2
    return finished


def _reconciliation_world():
    from audits.tests import scenario
    from tests.factories import build_world

    world = build_world()
    with tenant_transaction(world.a.tenant.pk):
        sc = scenario.build(world.a)
    return world.a, sc


def _start_reconciliation(w, sc):
    def start() -> Job:
        with tenant_transaction(w.tenant.pk):  # the task is sent when this commits
            return reconciliation_start(actor=sc.district, semester=w.semester)

    return start


def _one_run(w, sc) -> None:
    from audits.tests import scenario

    with tenant_transaction(w.tenant.pk):
        run = ReconciliationRun.objects.get()  # exactly one
        assert scenario.found(run) == sc.expected()
        assert Finding.objects.count() == len(sc.expected())


def test_a_reconciliation_whose_worker_was_killed_is_swept_and_runs_again_once(monkeypatch):
    w, sc = _reconciliation_world()
    job = _kill_worker_while_running(
        _start_reconciliation(w, sc),
        hook="tests.hooks.pause_reconciliation_write",
        monkeypatch=monkeypatch,
        written=lambda j: j.done == 6,  # progress 6/6 is committed just before the write transaction
    )
    with tenant_transaction(w.tenant.pk):
        assert ReconciliationRun.objects.count() == 0  # nothing half-written
    _dead_and_stale(job)
    finished = _sweep_and_finish(job)
    assert finished.result["created"] is True
    _one_run(w, sc)


def test_a_reconciliation_whose_pool_child_was_killed_does_not_stay_running():
    """Only the child dies: Celery requeues the message at once, the redelivered task finds the job
    still beating and leaves it (acked); the job would stay running for ever but for the sweep."""
    w, sc = _reconciliation_world()
    with running_worker(include=("tests.hooks.pause_reconciliation_write",)) as worker:
        queue = app.conf.task_default_queue
        job = _start_reconciliation(w, sc)()
        wait_for_job(w.tenant.pk, job.pk, lambda j: j.status == JobStatus.RUNNING and j.done == 6, seconds=60)
        time.sleep(2)  # inside the paused write
        # The child running the task, looked up now: one seen before the task started may have been
        # replaced since (the CI run that killed a child already gone: ProcessLookupError).
        child = _until(lambda: _children(worker.pid), "the pool's child")[0]
        os.kill(child, signal.SIGKILL)
        _until(lambda: [c for c in _children(worker.pid) if c != child], "a new child")
        _until(lambda: _queue_settled(queue), "the requeued message to be delivered and acked")
        with tenant_transaction(w.tenant.pk):
            assert ReconciliationRun.objects.count() == 0
        stored = job_now(w.tenant.pk, job.pk)
        assert (stored.status, stored.attempts) == (JobStatus.RUNNING, 1)  # refused: still "running"
    _dead_and_stale(job)
    _sweep_and_finish(job)
    _one_run(w, sc)


def test_an_audit_verify_whose_worker_was_killed_is_swept_and_runs_again_once(monkeypatch):
    from tests.factories import build_world

    world = build_world()
    auditor = world.a.user(Role.DISTRICT_AUDITOR)

    def start() -> Job:
        with tenant_transaction(world.a.tenant.pk):
            return jobs.job_start(kind=VERIFY_JOB_KIND, actor=auditor, task=verify_chain)

    job = _kill_worker_while_running(start, hook="tests.hooks.pause_audit_verify", monkeypatch=monkeypatch)
    _dead_and_stale(job)
    finished = _sweep_and_finish(job)
    assert finished.result["problems"] == []


def test_a_roster_import_whose_worker_was_killed_is_swept_and_runs_again_once(monkeypatch, tmp_path):
    from tests.factories import build_world

    world = build_world()
    a = world.a
    officer = a.user(Role.DISTRICT_STAFF)
    rows = [pupil(a, 姓名=f"新同学{i}") for i in range(3)]
    path = write_roster(tmp_path / "roster.xlsx", rows)
    with tenant_transaction(a.tenant.pk):
        before = Student.objects.count()

    def start() -> Job:
        with tenant_transaction(a.tenant.pk):
            return roster_upload(upload=SimpleUploadedFile("roster.xlsx", path.read_bytes()), actor=officer)

    # The pause comes after the file's checks and the chunk's write: a few seconds in.
    job = _kill_worker_while_running(start, hook="tests.hooks.pause_roster_write", monkeypatch=monkeypatch, settle=5)
    with tenant_transaction(a.tenant.pk):
        assert Student.objects.count() == before  # the chunk being written is not there
    _dead_and_stale(job)
    finished = _sweep_and_finish(job)
    assert (finished.result["created"], finished.result["rejected"]) == (3, 0)
    with tenant_transaction(a.tenant.pk):
        assert Student.objects.count() == before + 3


def test_a_registry_import_whose_worker_was_killed_is_swept_and_runs_again_once(monkeypatch):
    from audits.models import RegistrySnapshot
    from audits.registry.jobs import registry_upload
    from students import idcard
    from tests.factories import build_world

    w = build_world().a
    district = w.users[Role.DISTRICT_STAFF]
    numbers = [idcard.compose("410622", dt.date(1980, 3, 3), seq, idcard.Sex.FEMALE) for seq in (21, 22)]
    text = "姓名,身份证号,类别\n张三,{},低保\n李四,{},特困供养\n".format(*numbers)

    def start() -> Job:
        with tenant_transaction(w.tenant.pk):
            return registry_upload(
                upload=SimpleUploadedFile("低保.csv", text.encode()), actor=district, source="CIVIL", mapping=None,
                taken_on=dt.date(2026, 11, 30),
            )  # fmt: skip

    # The pause comes after the entries' write, inside the import's one transaction.
    job = _kill_worker_while_running(start, hook="tests.hooks.pause_registry_write", monkeypatch=monkeypatch, settle=5)
    with tenant_transaction(w.tenant.pk):
        assert not RegistrySnapshot.objects.exists()  # the import lands whole or not at all
    _dead_and_stale(job)
    finished = _sweep_and_finish(job)
    assert (finished.result["created"], finished.result["kept"]) == (True, 2)
    with tenant_transaction(w.tenant.pk):
        assert RegistrySnapshot.objects.count() == 1
