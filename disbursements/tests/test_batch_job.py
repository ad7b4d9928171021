"""Building a batch from the page is a background job: the button starts it and shows its progress
(redirect to the batches with `?job=`), a double click gets the same job, a refusal is the job's result
shown on the page, and the job run again after its batch was committed finds that batch instead of a
second one. The task runs in-process here; tests/…_worker.py run it on a real worker."""

from __future__ import annotations

from django.test import Client

from disbursements.models import Batch, BatchKind
from disbursements.services import batches
from disbursements.tasks import batch_build_task
from schools.models import Job, JobStatus
from schools.permissions import Role
from tests.factories import PASSWORD


def _client(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def _run(job: Job) -> Job:
    """The job's task, in this process (as a worker would run it), then the job as stored."""
    kwargs = {"tenant_id": str(job.tenant_id), "actor_id": str(job.actor_id), "job_id": str(job.pk)}
    batch_build_task.apply(kwargs=kwargs)
    return Job.objects.get(pk=job.pk)


def test_the_button_starts_a_job_a_double_click_gets_it_and_the_page_shows_the_batch(world, tenant_of, paid_semester):
    district = _client(world.a.users[Role.DISTRICT_STAFF])
    form = {"semester": str(paid_semester.pk), "kind": BatchKind.FIRST}
    first = district.post("/disbursements/build/", form)
    second = district.post("/disbursements/build/", form)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    with tenant_of(world.a.tenant):
        job = Job.objects.get(kind=batches.BUILD_JOB_KIND)
        assert job.status == JobStatus.QUEUED
        assert not Batch.objects.filter(semester=paid_semester).exists()  # nothing built in the request
        waiting = district.get(first["Location"]).content.decode()
        assert 'data-testid="batch-job"' in waiting
        assert 'hx-trigger="every 1s"' in waiting  # the progress bar polls
        job = _run(job)
        assert job.status == JobStatus.SUCCEEDED, job.message
        batch = Batch.objects.get(semester=paid_semester)
        assert (job.result["batch"], job.result["lines"]) == (str(batch.pk), 2)
    done = district.get(first["Location"]).content.decode()
    assert 'data-testid="batch-result"' in done
    assert f"/disbursements/{batch.pk}/" in done
    # Once it finished, another click starts a new job, which is refused: one first batch.
    third = district.post("/disbursements/build/", form)
    assert third["Location"] != first["Location"]
    with tenant_of(world.a.tenant):
        refused = _run(Job.objects.filter(kind=batches.BUILD_JOB_KIND).exclude(pk=job.pk).get())
        assert refused.status == JobStatus.SUCCEEDED
        assert refused.result["refused"]
        assert Batch.objects.filter(semester=paid_semester).count() == 1
    page = district.get(third["Location"])
    assert page.status_code == 200
    assert 'data-testid="batch-refused"' in page.content.decode()


def test_a_job_run_again_after_its_batch_was_committed_finds_that_batch(world, tenant_of, paid_semester):
    """A worker killed between the batch's commit and the job's end: the next attempt's work returns
    the batch the job built (it carries the job's id), never a second batch, never a refusal."""
    with tenant_of(world.a.tenant):
        job = batches.batch_build_start(
            actor=world.a.users[Role.DISTRICT_STAFF], semester=paid_semester, kind=BatchKind.FIRST
        )
        first, _message = batches.batch_build_job_run(job=job)
        again, _message = batches.batch_build_job_run(job=job)
        assert again["batch"] == first["batch"]
        assert (first["already_built"], again["already_built"], again["lines"]) == (False, True, 2)
        assert Batch.objects.filter(semester=paid_semester).count() == 1


def test_only_who_manages_batches_starts_one_and_a_job_is_seen_by_its_own_tenant_only(world, tenant_of, paid_semester):
    form = {"semester": str(paid_semester.pk), "kind": BatchKind.FIRST}
    assert _client(world.a.users[Role.SCHOOL_OFFICER]).post("/disbursements/build/", form).status_code == 403
    district = _client(world.a.users[Role.DISTRICT_STAFF])
    location = district.post("/disbursements/build/", form)["Location"]
    other = _client(world.b.users[Role.DISTRICT_STAFF])
    assert other.get(location.replace(f"semester={paid_semester.pk}&", "")).status_code == 404
    bad = district.post("/disbursements/build/", {"semester": str(paid_semester.pk), "kind": "SOMETIMES"})
    assert bad.status_code == 404
