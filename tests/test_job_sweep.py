"""The sweep of lost jobs (schools.jobs.jobs_sweep): which jobs get their task sent again, once, in every
tenant; finished jobs are left alone; a job run again says which attempt finished it."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.test import Client
from django.utils import timezone

from audits.tasks import VERIFY_JOB_KIND, verify_chain
from core.tenancy.context import tenant_context, tenant_transaction
from schools import jobs
from schools.models import Job, JobStatus
from schools.permissions import Role
from schools.tasks import sweep_jobs

LONG_AGO = jobs.STALE_AFTER + dt.timedelta(minutes=1)


class _SentTasks:
    """Stands in for a job kind's task: records what the sweep sends instead of sending it."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []

    def delay_on_commit(self, **kwargs: str) -> None:
        self.sent.append(kwargs)

    @property
    def job_ids(self) -> list[str]:
        return [kwargs["job_id"] for kwargs in self.sent]


@pytest.fixture
def sent(monkeypatch) -> _SentTasks:
    recorder = _SentTasks()
    monkeypatch.setitem(jobs._tasks, VERIFY_JOB_KIND, recorder)
    return recorder


def _job(tenant_world, *, status=JobStatus.QUEUED, age=dt.timedelta(0), heartbeat_age=None, attempts=0, kind=None):
    """A job of `kind` (the auditor's verify), created `age` ago, its heartbeat `heartbeat_age` ago."""
    now = timezone.now()
    with tenant_transaction(tenant_world.tenant.pk):
        job = Job.objects.create(kind=kind or VERIFY_JOB_KIND, actor=tenant_world.user(Role.DISTRICT_AUDITOR))
        Job.objects.filter(pk=job.pk).update(
            status=status,
            created_at=now - age,
            attempts=attempts,
            heartbeat_at=None if heartbeat_age is None else now - heartbeat_age,
            finished_at=now - age if status in (JobStatus.SUCCEEDED, JobStatus.FAILED) else None,
        )
        return Job.objects.get(pk=job.pk)


def _stored(job) -> Job:
    with tenant_transaction(job.tenant_id):
        return Job.objects.get(pk=job.pk)


def test_beat_sweeps_often_enough_for_a_lost_job_to_run_again_within_two_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-jobs"]
    assert entry["task"] == sweep_jobs.name == "schools.sweep_jobs"
    assert entry["task"] in sweep_jobs.app.tasks  # the project's app (config.celery)
    every = dt.timedelta(seconds=entry["schedule"])
    assert jobs.STALE_AFTER + every <= dt.timedelta(minutes=2)  # from the last beat to the next sweep
    assert jobs.HEARTBEAT_EVERY * 4 <= jobs.STALE_AFTER  # a live job beats several times per period
    # Every kind of job started anywhere has its task registered (apps' ready()).
    assert {"roster_import", "registry_import", "reconciliation", VERIFY_JOB_KIND} <= set(jobs._tasks)


def test_the_sweep_sends_again_the_jobs_gone_quiet_in_every_tenant_and_leaves_the_others(world, sent):
    lost_queued = _job(world.a, age=LONG_AGO)
    dead_running = _job(world.a, status=JobStatus.RUNNING, age=LONG_AGO, heartbeat_age=LONG_AGO, attempts=1)
    other_tenant = _job(world.b, status=JobStatus.RUNNING, age=LONG_AGO, heartbeat_age=LONG_AGO, attempts=1)
    left_alone = [
        _job(world.a),  # queued just now: its message is on its way
        _job(world.a, status=JobStatus.RUNNING, age=LONG_AGO, heartbeat_age=dt.timedelta(seconds=5), attempts=1),
        _job(world.a, status=JobStatus.SUCCEEDED, age=LONG_AGO, heartbeat_age=LONG_AGO, attempts=1),
        _job(world.a, status=JobStatus.FAILED, age=LONG_AGO, heartbeat_age=LONG_AGO, attempts=1),
    ]

    assert sweep_jobs() == 3
    assert sorted(sent.job_ids) == sorted(str(j.pk) for j in (lost_queued, dead_running, other_tenant))
    for job in (lost_queued, dead_running, other_tenant):  # with its tenant and actor, as job_start sends it
        assert {"tenant_id": str(job.tenant_id), "actor_id": str(job.actor_id), "job_id": str(job.pk)} in sent.sent
        assert _stored(job).resent_at is not None
    for job in left_alone:
        stored = _stored(job)
        assert (stored.status, stored.resent_at) == (job.status, None)


def test_a_quiet_job_is_sent_again_once_per_stale_period_not_once_per_sweep(world, sent):
    job = _job(world.a, status=JobStatus.RUNNING, age=LONG_AGO, heartbeat_age=LONG_AGO, attempts=1)
    assert sweep_jobs() == 1
    assert sweep_jobs() == 0  # the next sweeps, 30 s later: already sent
    assert sent.job_ids == [str(job.pk)]
    with tenant_transaction(world.a.tenant.pk):  # its message was lost too: after STALE_AFTER, once more
        Job.objects.filter(pk=job.pk).update(resent_at=timezone.now() - LONG_AGO)
    assert sweep_jobs() == 1
    assert sent.job_ids == [str(job.pk)] * 2


def test_two_sweeps_at_once_send_a_job_once(world, sent):
    job = _job(world.a, age=LONG_AGO)
    now = timezone.now()
    with tenant_transaction(world.a.tenant.pk):
        seen_by_both = list(jobs.jobs_stuck(now=now))
        assert [jobs.job_resend(job=j, now=now) for j in seen_by_both] == [True]
        assert [jobs.job_resend(job=j, now=now) for j in seen_by_both] == [False]
    assert sent.job_ids == [str(job.pk)]


def test_a_job_of_a_kind_nobody_registered_is_not_sent(world, sent):
    job = _job(world.a, age=LONG_AGO, kind="nobody_runs_this")
    assert sweep_jobs() == 0
    assert _stored(job).resent_at is None


def test_a_job_that_stopped_its_worker_too_often_fails_instead(world, sent):
    job = _job(world.a, status=JobStatus.RUNNING, age=LONG_AGO, heartbeat_age=LONG_AGO, attempts=jobs.MAX_ATTEMPTS)
    assert sweep_jobs() == 0
    stored = _stored(job)
    assert stored.status == JobStatus.FAILED
    assert stored.message == str(jobs.MSG_GAVE_UP % {"n": jobs.MAX_ATTEMPTS})
    assert sent.sent == []


def test_the_task_sent_again_reclaims_the_job_and_says_it_was_attempt_2(world, sent):
    """The sweep's message, delivered (here run in this process): the job runs once more and finishes;
    another copy of it does nothing."""
    job = _job(world.a, status=JobStatus.RUNNING, age=LONG_AGO, heartbeat_age=LONG_AGO, attempts=1)
    assert sweep_jobs() == 1
    verify_chain.apply(kwargs=sent.sent[0], throw=True)
    verify_chain.apply(kwargs=sent.sent[0], throw=True)
    stored = _stored(job)
    assert (stored.status, stored.attempts) == (JobStatus.SUCCEEDED, 2)
    assert stored.result["problems"] == []
    assert stored.result["attempt"] == 2
    client = Client()
    client.force_login(world.a.user(Role.DISTRICT_AUDITOR))
    page = client.get(f"/schools/jobs/{job.pk}/").content.decode()
    assert "verify-ok" in page
    assert 'data-testid="job-attempts"' in page
    assert sweep_jobs() == 0  # finished: never sent again


def test_an_attempt_taken_for_dead_records_nothing_when_it_ends_after_all(world):
    """Its job was claimed again (attempt 2 runs elsewhere): attempt 1's late result or failure is not
    recorded over it."""
    with tenant_transaction(world.a.tenant.pk):
        job = Job.objects.create(kind=VERIFY_JOB_KIND, actor=world.a.user(Role.DISTRICT_AUDITOR))
    with tenant_context(world.a.tenant.pk):
        first = jobs.job_claim(job_id=job.pk)
        with tenant_transaction(world.a.tenant.pk):
            Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - LONG_AGO)
        second = jobs.job_claim(job_id=job.pk)
    assert (first.attempts, second.attempts) == (1, 2)
    jobs.job_finish(first, result={"late": True})
    jobs.job_fail(first, message="late")
    assert (_stored(job).status, _stored(job).result) == (JobStatus.RUNNING, None)
    jobs.job_finish(second, result={"on": "time"})
    stored = _stored(job)
    assert (stored.status, stored.result) == (JobStatus.SUCCEEDED, {"on": "time", "attempt": 2})


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "in_one_transaction", [False, pytest.param(True, marks=pytest.mark.postgres)], ids=["short", "one-transaction"]
)
def test_a_running_job_beats_while_its_work_reports_nothing(monkeypatch, in_one_transaction):
    """The heartbeat comes from a thread of the worker, on a connection of its own, so a phase without
    progress calls, or work in one long transaction (the registry import), is not taken for a dead
    worker. (One transaction: PostgreSQL only; SQLite's file lock would hold the beat until the end.)"""
    from contextlib import nullcontext

    from tests.factories import build_world

    world = build_world()
    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", dt.timedelta(seconds=0.1))
    with tenant_transaction(world.a.tenant.pk):
        job = Job.objects.create(kind="test", actor=world.a.user(Role.DISTRICT_STAFF))

    def work(claimed: Job):
        with tenant_transaction(world.a.tenant.pk) if in_one_transaction else nullcontext():
            time.sleep(1)
            return {"heartbeat_at": _stored(claimed).heartbeat_at.isoformat()}, ""

    with tenant_context(world.a.tenant.pk):
        jobs.run(job_id=job.pk, work=work)
    stored = _stored(job)
    assert stored.status == JobStatus.SUCCEEDED
    assert dt.datetime.fromisoformat(stored.result["heartbeat_at"]) > stored.started_at
