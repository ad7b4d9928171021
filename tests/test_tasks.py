"""Background work: tasks carry their tenant and actor, and a real worker runs them through Redis."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from audits.tasks import verify_chain
from core.tenancy.context import tenant_transaction
from core.tenancy.tasks import TaskContextMissing
from schools import jobs
from schools.models import Job, JobStatus
from schools.permissions import Role
from tests.workers import running_worker


def test_a_task_refuses_to_run_without_tenant_and_actor(world):
    with pytest.raises(TaskContextMissing):
        verify_chain.apply(kwargs={"job_id": "x"}, throw=True)
    with pytest.raises(TaskContextMissing):
        verify_chain.apply(kwargs={"tenant_id": str(world.a.tenant.pk), "job_id": "x"}, throw=True)


def test_a_task_refuses_an_actor_of_another_tenant(world):
    with pytest.raises(TaskContextMissing):
        verify_chain.apply(
            kwargs={
                "tenant_id": str(world.a.tenant.pk),
                "actor_id": str(world.b.users[Role.DISTRICT_AUDITOR].pk),
                "job_id": "x",
            },
            throw=True,
        )


def test_the_job_is_enqueued_only_when_the_transaction_commits(world, tenant_of, django_capture_on_commit_callbacks):
    auditor = world.a.users[Role.DISTRICT_AUDITOR]
    with django_capture_on_commit_callbacks(execute=False) as callbacks, tenant_of(world.a.tenant):
        job = jobs.job_start(kind="audit_verify", actor=auditor, task=verify_chain)
    assert len(callbacks) == 1
    with tenant_of(world.a.tenant):
        assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED


def test_in_process_run_when_no_broker_finishes_the_job(world, django_capture_on_commit_callbacks, settings):
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("with a broker the task goes to a worker: see the worker test")
    client = Client()
    client.force_login(world.a.users[Role.DISTRICT_AUDITOR])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/audit/verify/")
    assert response.status_code == 200
    with tenant_transaction(world.a.tenant.pk):
        job = Job.objects.get(kind="audit_verify", actor=world.a.users[Role.DISTRICT_AUDITOR])
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["problems"] == []
    assert job.attempts == 1
    assert client.get(f"/schools/jobs/{job.pk}/").content.decode().count("verify-ok") == 1


def test_a_finished_job_is_not_run_again(world, tenant_of, django_capture_on_commit_callbacks):
    auditor = world.a.users[Role.DISTRICT_AUDITOR]
    with django_capture_on_commit_callbacks(execute=False), tenant_of(world.a.tenant):
        job = jobs.job_start(kind="audit_verify", actor=auditor, task=verify_chain)
    kwargs = {"tenant_id": str(job.tenant_id), "actor_id": str(auditor.pk), "job_id": str(job.pk)}
    verify_chain.apply(kwargs=kwargs, throw=True)
    verify_chain.apply(kwargs=kwargs, throw=True)  # redelivered: the claim fails, nothing runs
    with tenant_of(world.a.tenant):
        assert Job.objects.get(pk=job.pk).attempts == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_job_through_redis():
    from tests.factories import build_world

    world = build_world()
    client = Client()
    client.force_login(world.a.users[Role.DISTRICT_AUDITOR])
    with running_worker():
        response = client.post("/audit/verify/")
        assert response.status_code == 200
        assert 'data-status="QUEUED"' in response.content.decode()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with tenant_transaction(world.a.tenant.pk):
                job = Job.objects.get(kind="audit_verify", actor=world.a.users[Role.DISTRICT_AUDITOR])
            if job.is_finished:
                break
            time.sleep(0.2)
    assert job.status == JobStatus.SUCCEEDED, job.message
    assert job.result["problems"] == []
    page = client.get(f"/schools/jobs/{job.pk}/").content.decode()
    assert "verify-ok" in page


def test_progress_made_inside_one_transaction_is_seen_before_it_commits(world, tenant_of):
    """An import that must land whole runs in one transaction; its progress bar still moves (cache)."""
    from django.db import transaction

    with tenant_of(world.a.tenant):
        job = Job.objects.create(kind="test", actor=world.a.users[Role.DISTRICT_STAFF], status="RUNNING")
        with transaction.atomic():
            jobs.job_progress(job, done=40, total=100, message="rows")
            stored = Job.objects.get(pk=job.pk)
            assert (stored.done, stored.total) == (0, 0)  # no row update that would show only at commit
            seen = jobs.job_live(Job.objects.get(pk=job.pk))
            assert (seen.done, seen.total, seen.percent) == (40, 100, 40)
