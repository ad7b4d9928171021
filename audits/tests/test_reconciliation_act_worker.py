"""Acting on a reconciliation's lists as a background job through a real Celery worker on Redis: the
stops and recoveries are proposed by the worker, once however often the message comes or the button is
pressed;
a worker killed after some findings were acted on leaves a job the sweep sends again, which acts on the
rest and proposes nothing twice."""

from __future__ import annotations

import time

import pytest

from audits.models import Finding, FindingKind, FindingStatus
from audits.reconciliation.services import CORRECTIONS, reconciliation_act_start, reconciliation_run
from audits.reconciliation.tasks import reconciliation_act_task
from core.tenancy.context import tenant_transaction
from disbursements.models import Correction
from schools.models import Job, JobStatus
from tests.test_job_sweep_worker import _dead_and_stale, _kill_worker_while_running, _sweep_and_finish
from tests.workers import job_now, running_worker, wait_for_job

from . import scenario

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ERRORS = [FindingKind.STOP, FindingKind.RECOVER]


def _world_with_a_run():
    from tests.factories import build_world

    w = build_world().a
    with tenant_transaction(w.tenant.pk):
        sc = scenario.build(w)
        run, _created = reconciliation_run(actor=sc.district, semester=w.semester)
        before = Correction.objects.count()
    return w, sc, run, before


def _start(w, sc, run) -> Job:
    with tenant_transaction(w.tenant.pk):  # the task is sent when this commits
        return reconciliation_act_start(actor=sc.district, run=run, what=CORRECTIONS)


def _each_award_corrected_once(w, run, before) -> None:
    with tenant_transaction(w.tenant.pk):
        made = Correction.objects.count() - before
        assert made == scenario.CORRECTIONS_EXPECTED
        findings = Finding.objects.filter(run=run, kind__in=ERRORS)
        assert not findings.filter(status=FindingStatus.OPEN).exists()
        awards = set(findings.values_list("award_id", flat=True))
        for award_id in awards:
            assert Correction.objects.filter(award_id=award_id).count() == 1, award_id


def test_a_real_worker_proposes_the_stops_and_recoveries_once():
    w, sc, run, before = _world_with_a_run()
    with running_worker():
        job = _start(w, sc, run)
        job = wait_for_job(w.tenant.pk, job.pk, lambda j: j.is_finished)
        # The same message delivered again (Redis after a lost worker): the finished job is not claimed.
        kwargs = {"tenant_id": str(w.tenant.pk), "actor_id": str(sc.district.pk), "job_id": str(job.pk)}
        reconciliation_act_task.apply_async(kwargs=kwargs)
        time.sleep(3)
        # A click after it finished starts a new job, which finds nothing open.
        again = wait_for_job(w.tenant.pk, _start(w, sc, run).pk, lambda j: j.is_finished)
    assert again.status == JobStatus.SUCCEEDED, again.message
    assert again.result["acted"] == 0
    assert job.status == JobStatus.SUCCEEDED, job.message
    assert (job.result["acted"], job.result["skipped"]) == (scenario.CORRECTIONS_EXPECTED, 0)
    assert job_now(w.tenant.pk, job.pk).attempts == 1
    assert job.done == job.total > 0
    _each_award_corrected_once(w, run, before)


def test_acting_whose_worker_was_killed_half_way_is_swept_and_proposes_nothing_twice(monkeypatch):
    w, sc, run, before = _world_with_a_run()

    def two_committed(_job) -> bool:
        with tenant_transaction(w.tenant.pk):
            return Finding.objects.filter(run=run, status=FindingStatus.ACTED).count() >= 2

    job = _kill_worker_while_running(
        lambda: _start(w, sc, run),
        hook="tests.hooks.pause_reconciliation_act",
        monkeypatch=monkeypatch,
        written=two_committed,
    )
    with tenant_transaction(w.tenant.pk):
        assert Finding.objects.filter(run=run, status=FindingStatus.ACTED).count() == 2  # the third rolled back
    _dead_and_stale(job)
    finished = _sweep_and_finish(job)
    assert finished.result["skipped"] == 0
    assert sum(finished.result["earlier_attempts"].values()) > 0  # the first attempt's rows, named
    _each_award_corrected_once(w, run, before)
