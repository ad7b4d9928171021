"""Background jobs: start one, let its task claim it, report progress, finish it.

A job is started inside the request's transaction and its task is enqueued only when that transaction
commits (`delay_on_commit`), with the tenant and actor as explicit arguments. The task claims the job
with a conditional update; a message redelivered after a worker died re-claims a job whose heartbeat
has gone quiet, and the job's work is written idempotently, so it can simply run again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from celery import Task
from django.core.cache import cache
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from core.audit import trail
from core.tenancy.context import current_tenant_id, tenant_transaction

from .models import Job, JobStatus, User

#: A running job whose task has not reported for this long is taken to be dead and may be re-claimed.
STALE_AFTER = dt.timedelta(minutes=2)


def job_start(*, kind: str, actor: User, task: Task, params: dict[str, Any] | None = None) -> Job:
    """Create a queued job and send its task once the current transaction commits."""
    job = Job(kind=kind, actor=actor, params=params or {})
    with trail.labelled(f"job.start.{kind}"):
        job.save()
    task.delay_on_commit(tenant_id=str(job.tenant_id), actor_id=str(actor.pk), job_id=str(job.pk))
    return job


def job_claim(*, job_id: Any) -> Job | None:
    """Mark the job running if it is queued (or running but silent: its worker died). None if another
    worker holds it or it has finished, in which case the task does nothing."""
    now = timezone.now()
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
    with tenant_transaction(current_tenant_id()), trail.labelled("job.claim"):
        claimed = Job.objects.filter(claimable, pk=job_id).update(
            status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
        )
        return Job.objects.get(pk=job_id) if claimed == 1 else None


def _progress_key(job_id: Any) -> str:
    return f"job-progress:{job_id}"


def job_progress(job: Job, *, done: int, total: int, message: str = "") -> None:
    """Record progress where the progress bar sees it at once: in the cache (Redis beside real workers;
    the process's memory when tasks run in-process), and on the job row in its own short transaction,
    unless the work runs inside one transaction (an import that must land whole), where a row update
    would show only at the end."""
    cache.set(_progress_key(job.pk), (done, total, message[:300]), timeout=24 * 3600)
    if not connection.in_atomic_block:
        with tenant_transaction(job.tenant_id):
            Job.objects.filter(pk=job.pk).update(
                done=done, total=total, message=message[:300], heartbeat_at=timezone.now()
            )
    job.done, job.total, job.message = done, total, message


def job_live(job: Job) -> Job:
    """The job as the progress bar shows it: the row, with the latest progress from the cache while it
    runs (a job working inside one transaction reports there only)."""
    if not job.is_finished:
        latest = cache.get(_progress_key(job.pk))
        if latest is not None and latest[0] >= job.done:
            job.done, job.total, job.message = latest
    return job


def job_finish(job: Job, *, result: dict[str, Any] | None = None, message: str = "") -> None:
    latest = cache.get(_progress_key(job.pk))
    total = max(latest[1], job.total) if latest else F("total")
    with tenant_transaction(job.tenant_id), trail.labelled("job.finish"):
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.SUCCEEDED,
            result=result,
            message=message[:300],
            finished_at=timezone.now(),
            total=total,
            done=total,
        )


def job_fail(job: Job, *, message: str) -> None:
    with tenant_transaction(job.tenant_id), trail.labelled("job.fail", message[:200]):
        Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, message=message[:300], finished_at=timezone.now())


def run(*, job_id: Any, work: Callable[[Job], tuple[dict[str, Any] | None, str]]) -> None:
    """Claim the job and do `work(job)`, which returns (result, message); record success or failure.

    A failure is recorded on the job with its message and re-raised, so the task is marked failed too.
    """
    job = job_claim(job_id=job_id)
    if job is None:
        return
    try:
        result, message = work(job)
    except Exception as exc:
        job_fail(job, message=f"{type(exc).__name__}: {exc}")
        raise
    job_finish(job, result=result, message=message)
