"""A job run again after its worker died says what the earlier attempt had already committed (issue
18, item 1): every audit row a job writes names the job, so the later attempt reads them back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.tenancy.context import tenant_context, tenant_transaction
from schools import jobs
from schools.models import CalendarDay, Job, JobStatus
from schools.permissions import Role


class WorkerDied(BaseException):
    """What a SIGKILL looks like from inside the work: nothing after it runs, nothing records a failure."""


def test_a_retried_job_reports_the_rows_its_earlier_attempt_committed(world):
    w = world.a
    district = w.users[Role.DISTRICT_STAFF]
    with tenant_transaction(w.tenant.pk):
        job = Job.objects.create(kind="audit_verify", actor=district)

    def first_attempt(job):
        for day in (1, 2, 3):  # committed, one tenant transaction each, as an import's chunks are
            with tenant_transaction(job.tenant_id):
                CalendarDay.objects.create(date=dt.date(2026, 12, day), is_workday=False, note="本地假日")
        raise WorkerDied

    def second_attempt(job):
        return {"written": 0}, "0 written"  # the rows are there already: nothing left to do

    with tenant_context(w.tenant.pk), pytest.raises(WorkerDied):
        jobs.run(job_id=job.pk, work=first_attempt)
    with tenant_transaction(w.tenant.pk):
        job.refresh_from_db()
        assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
        # The dead worker's heartbeat goes quiet: the job may be claimed again.
        Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - jobs.STALE_AFTER - dt.timedelta(minutes=1))
    with tenant_context(w.tenant.pk):
        jobs.run(job_id=job.pk, work=second_attempt)
    with tenant_transaction(w.tenant.pk):
        job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["attempt"] == 2
    assert job.result["earlier_attempts"] == {"schools.calendarday.create": 3}
    assert job.earlier_written == 3
    client = Client()
    client.force_login(district)
    page = client.get(reverse("schools:job", args=[job.pk])).content.decode()
    assert 'data-testid="job-earlier"' in page
    assert "3" in page.split('data-testid="job-earlier"', 1)[1][:200]


def test_a_job_that_ran_once_reports_no_earlier_attempt(world):
    w = world.a
    with tenant_transaction(w.tenant.pk):
        job = Job.objects.create(kind="audit_verify", actor=w.users[Role.DISTRICT_STAFF])
    with tenant_context(w.tenant.pk):
        jobs.run(job_id=job.pk, work=lambda job: ({"written": 1}, "1 written"))
    with tenant_transaction(w.tenant.pk):
        job.refresh_from_db()
    assert job.result == {"written": 1}
    assert job.earlier_written == 0
