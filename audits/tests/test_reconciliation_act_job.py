"""Acting on a reconciliation's lists from the page is a background job: the button starts it and the
run's page shows its progress and result; a double click gets the same job; the job run again acts on
nothing twice; an older run's lists are refused with a message. The task runs in-process here; the
real worker is tests of …_worker.py."""

from __future__ import annotations

from django.test import Client

from audits.models import Finding, FindingKind, FindingStatus
from audits.reconciliation.services import ACT_JOB_KIND, reconciliation_act_job_run, reconciliation_run
from audits.reconciliation.tasks import reconciliation_act_task
from disbursements.models import Correction
from schools.models import Job, JobStatus
from tests.factories import PASSWORD

from . import scenario


def _client(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def test_the_button_starts_the_job_and_the_run_page_shows_its_result(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant):
        sc = scenario.build(w)
        run, _created = reconciliation_run(actor=sc.district, semester=w.semester)
        before = Correction.objects.count()
    district = _client(sc.district)
    first = district.post(f"/reconciliation/{run.pk}/corrections/")
    second = district.post(f"/reconciliation/{run.pk}/corrections/")  # the double click
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert "?job=" in first["Location"]
    with tenant_of(w.tenant):
        job = Job.objects.get(kind=ACT_JOB_KIND)
        assert Correction.objects.count() == before  # nothing done in the request
        kwargs = {"tenant_id": str(w.tenant.pk), "actor_id": str(sc.district.pk), "job_id": str(job.pk)}
        reconciliation_act_task.apply(kwargs=kwargs)
        job = Job.objects.get(pk=job.pk)
        assert job.status == JobStatus.SUCCEEDED, job.message
        assert (job.result["acted"], job.result["skipped"]) == (scenario.CORRECTIONS_EXPECTED, 0)
        assert Correction.objects.count() == before + scenario.CORRECTIONS_EXPECTED
        # The same work again (a job sent again after its worker died): nothing open, nothing twice.
        again, _message = reconciliation_act_job_run(job=job)
        assert again["acted"] == 0
        assert Correction.objects.count() == before + scenario.CORRECTIONS_EXPECTED
        errors = Finding.objects.filter(run=run, kind__in=[FindingKind.STOP, FindingKind.RECOVER])
        assert not errors.filter(status=FindingStatus.OPEN).exists()
    page = district.get(first["Location"]).content.decode()
    assert 'data-testid="act-result"' in page
    assert "/disbursements/corrections/" in page


def test_the_omissions_job_and_an_older_runs_lists(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant):
        sc = scenario.build(w)
        old, _created = reconciliation_run(actor=sc.district, semester=w.semester)
    district = _client(sc.district)
    location = district.post(f"/reconciliation/{old.pk}/omissions/")["Location"]
    with tenant_of(w.tenant):
        job = Job.objects.get(kind=ACT_JOB_KIND)
        assert job.params == {"run": str(old.pk), "what": "omissions"}
        result, _message = reconciliation_act_job_run(job=job)
        # NOT_AWARDED becomes an award; NOT_IDENTIFIED stays open for the school to nominate.
        assert (result["acted"], result["skipped"]) == (1, 1)
        # A newer run (the data changed: an award was proposed) makes the old run's lists stale.
        newer, created = reconciliation_run(actor=sc.district, semester=w.semester)
        assert created
    response = district.post(f"/reconciliation/{old.pk}/corrections/", follow=True)
    assert response.status_code == 200
    assert any("newer" in str(m) or "较新" in str(m) or "新的" in str(m) for m in response.context["messages"])
    assert district.get(location).status_code == 200
    # Another tenant's district staff cannot act on this run.
    assert _client(world.b.users["DISTRICT_STAFF"]).post(f"/reconciliation/{newer.pk}/corrections/").status_code == 404
