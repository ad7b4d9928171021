"""A reconciliation through a real Celery worker on Redis; a worker killed mid-write leaves nothing, and
the job runs again to exactly one run (acks late, one write transaction, re-claimable jobs)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import pytest
from django.utils import timezone

from audits.models import Finding, ReconciliationRun
from audits.reconciliation.services import reconciliation_start
from audits.reconciliation.tasks import reconciliation_task
from core.tenancy.context import tenant_transaction
from schools import jobs
from schools.models import Job, JobStatus
from tests.workers import running_worker, wait_for_job

from . import scenario

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _setup():
    from tests.factories import build_world

    world = build_world()
    with tenant_transaction(world.a.tenant.pk):
        sc = scenario.build(world.a)
    return world.a, sc


def _start(w, sc) -> Job:
    with tenant_transaction(w.tenant.pk):  # the task is sent when this commits
        return reconciliation_start(actor=sc.district, semester=w.semester)


def test_a_real_worker_runs_the_reconciliation_through_redis():
    w, sc = _setup()
    with running_worker():
        job = _start(w, sc)
        job = wait_for_job(w.tenant.pk, job.pk, lambda j: j.is_finished)
    assert job.status == JobStatus.SUCCEEDED, job.message
    assert (job.done, job.total, job.attempts) == (6, 6, 1)
    with tenant_transaction(w.tenant.pk):
        run = ReconciliationRun.objects.get()
        assert job.result["run"] == str(run.pk)
        assert job.result["created"] is True
        assert run.job_id is None or run.job_id == job.pk
        assert scenario.found(run) == sc.expected()


# PostgreSQL only: on SQLite the paused writer's file lock blocks the test's own reads meanwhile.
@pytest.mark.postgres
def test_a_worker_killed_mid_write_leaves_nothing_and_the_job_runs_again(monkeypatch):
    w, sc = _setup()
    # The first worker holds the run's transaction open (rows written, not committed) for a minute: a
    # test module it imports at start wraps the findings' write with a pause (the product has no such
    # hook). The solo pool runs the task in the worker process itself, so SIGKILL kills it mid-write.
    monkeypatch.setenv("TEST_WORKER_POOL", "solo")
    with running_worker(include=("tests.hooks.pause_reconciliation_write",)) as worker:
        job = _start(w, sc)
        # Progress 6/6 is committed just before the write transaction opens.
        wait_for_job(w.tenant.pk, job.pk, lambda j: j.done == 6 and j.total == 6, seconds=60)
        time.sleep(2)  # inside the paused transaction now
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    time.sleep(1)
    with tenant_transaction(w.tenant.pk):
        assert ReconciliationRun.objects.count() == 0  # no half-written result
        assert Finding.objects.count() == 0
        job = Job.objects.get(pk=job.pk)
        assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
        # Time passes: the dead worker's job has gone quiet and may be claimed again.
        Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - jobs.STALE_AFTER - dt.timedelta(minutes=1))

    monkeypatch.delenv("TEST_WORKER_POOL")
    kwargs = {"tenant_id": str(w.tenant.pk), "actor_id": str(sc.district.pk), "job_id": str(job.pk)}
    with running_worker():
        # Redis gives an unacknowledged message back only after the visibility timeout (15 min), and each
        # test worker listens on a queue of its own: deliver the same message again, as Redis would (the
        # sweep's message is tests/test_job_sweep_worker.py).
        reconciliation_task.apply_async(kwargs=kwargs)
        job = wait_for_job(w.tenant.pk, job.pk, lambda j: j.is_finished)
        assert job.status == JobStatus.SUCCEEDED, job.message
        assert job.attempts == 2
        # A duplicate delivery after success does nothing: the finished job is not claimed again.
        reconciliation_task.apply_async(kwargs=kwargs)
        time.sleep(3)
    with tenant_transaction(w.tenant.pk):
        run = ReconciliationRun.objects.get()  # exactly one
        assert scenario.found(run) == sc.expected()
        assert Finding.objects.count() == len(sc.expected())
        assert Job.objects.get(pk=job.pk).attempts == 2
