"""Background jobs: start one, let its task claim it, report progress, finish it.

A job is started inside the request's transaction and its task is enqueued only when that transaction
commits (`delay_on_commit`), with the tenant and actor as explicit arguments. The task claims the job
with a conditional update; a message redelivered after a worker died re-claims a job whose heartbeat
has gone quiet, and the job's work is written idempotently, so it can simply run again.

While a job runs, a thread of its worker beats (`HEARTBEAT_EVERY`), whatever the work is doing; a job
that has shown no sign of life for `STALE_AFTER` (queued and never claimed, or running with a silent
heartbeat) has its task sent again by the sweep (`jobs_sweep`, Celery beat), which finds the task of
each kind in the registry the apps fill (`register_job_kind`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from celery import Task
from django.core.cache import cache
from django.db import DatabaseError, connection, connections
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import trail
from core.audit.models import AuditEvent
from core.tenancy.context import current_tenant_id, tenant_transaction

from .models import Job, JobStatus, Tenant, User

logger = logging.getLogger(__name__)

#: A job that has shown no sign of life for this long (running with a silent heartbeat, or queued and
#: never claimed) is taken to be lost: the sweep sends its task again, and the task may re-claim it.
#: With the sweep every 30 s, a job whose worker died runs again within two minutes.
STALE_AFTER = dt.timedelta(seconds=90)
#: A running job's worker writes the heartbeat this often (six beats to a STALE_AFTER: a slow moment of
#: the database does not make a live job look dead).
HEARTBEAT_EVERY = dt.timedelta(seconds=15)
#: A job whose worker died this many times is failed instead of being sent again (a file that kills the
#: worker would otherwise do so every two minutes, for ever).
MAX_ATTEMPTS = 3

MSG_GAVE_UP = _("The worker stopped %(n)s times while running this job; it was not tried again.")
MSG_ACTOR_GONE = _("The person who started this job can no longer act; it was not tried again.")

# kind → the task that runs jobs of that kind (filled by each app's AppConfig.ready()).
_tasks: dict[str, Task] = {}


def register_job_kind(kind: str, task: Task) -> None:
    """Name the task that runs jobs of `kind`, so the sweep can send it again (AppConfig.ready())."""
    _tasks[kind] = task


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


def _this_attempt(job: Job) -> QuerySet[Job]:
    """The job's row while `job` is its latest attempt: a worker taken for dead whose job was claimed
    again (and is running elsewhere) records nothing when it finishes after all."""
    return Job.objects.filter(pk=job.pk, attempts=job.attempts)


def _superseded(job: Job) -> None:
    logger.warning("job %s: attempt %s ended after the job was claimed again; not recorded", job.pk, job.attempts)


def _beat(job: Job) -> bool:
    """Write the job's heartbeat in a transaction of its own; False once the job is no longer this
    attempt's (finished, or re-claimed after this worker was taken for dead)."""
    with tenant_transaction(job.tenant_id):
        return _this_attempt(job).filter(status=JobStatus.RUNNING).update(heartbeat_at=timezone.now()) == 1


@contextmanager
def _heartbeat(job: Job) -> Iterator[None]:
    """Beat every HEARTBEAT_EVERY while the block runs, from a thread (on a database connection of its
    own): the work may sit in one long transaction, or in a phase that reports no progress, and still
    be seen alive. The beats stop when the process dies, which is what the sweep looks for."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(HEARTBEAT_EVERY.total_seconds()):
                try:
                    if not _beat(job):
                        return
                except DatabaseError:
                    logger.warning("job %s: heartbeat not written", job.pk, exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=beat, name=f"job-heartbeat-{job.pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


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


def job_finish(
    job: Job, *, result: dict[str, Any] | None = None, message: str = "", earlier: dict[str, int] | None = None
) -> None:
    """Record success; a job that ran more than once says on which attempt it finished, and what its
    earlier attempts had already written (`earlier`: audit actions and their counts)."""
    if job.attempts > 1 and isinstance(result, dict):
        result = {**result, "attempt": job.attempts, **({"earlier_attempts": earlier} if earlier else {})}
    latest = cache.get(_progress_key(job.pk))
    total = max(latest[1], job.total) if latest else F("total")
    with tenant_transaction(job.tenant_id), trail.labelled("job.finish"):
        finished = _this_attempt(job).update(
            status=JobStatus.SUCCEEDED,
            result=result,
            message=message[:300],
            finished_at=timezone.now(),
            total=total,
            done=total,
        )
    if not finished:
        _superseded(job)


def job_fail(job: Job, *, message: str) -> None:
    with tenant_transaction(job.tenant_id), trail.labelled("job.fail", message[:200]):
        failed = _this_attempt(job).update(status=JobStatus.FAILED, message=message[:300], finished_at=timezone.now())
    if not failed:
        _superseded(job)


def run(*, job_id: Any, work: Callable[[Job], tuple[dict[str, Any] | None, str]]) -> None:
    """Claim the job and do `work(job)`, which returns (result, message); record success or failure.

    A failure is recorded on the job with its message and re-raised, so the task is marked failed too.
    """
    job = job_claim(job_id=job_id)
    if job is None:
        return
    earlier = earlier_attempts(job) if job.attempts > 1 else {}
    # Every audit row the work writes names the job (its request id), whichever attempt writes it: a
    # later attempt can then say what an earlier one, killed with its worker, had already committed.
    as_job = dataclasses.replace(trail.current_actor(), request_id=str(job.pk))
    try:
        with trail.acting_as(as_job), _heartbeat(job):
            result, message = work(job)
    except Exception as exc:
        job_fail(job, message=f"{type(exc).__name__}: {exc}")
        raise
    job_finish(job, result=result, message=message, earlier=earlier)


def earlier_attempts(job: Job) -> dict[str, int]:
    """What the job's earlier attempts committed, from the audit trail: {action: rows} (the job's own
    bookkeeping left out). Read once, when a later attempt starts, and only then."""
    with tenant_transaction(job.tenant_id):
        rows = (
            AuditEvent.objects.filter(request_id=str(job.pk))
            .exclude(object_type="schools.job")
            .values("action")
            .annotate(n=Count("pk"))
            .order_by("action")
        )
        return {row["action"]: row["n"] for row in rows}


# --- The sweep: jobs whose worker died -------------------------------------------------------------------


def _quiet(now: dt.datetime) -> Q:
    """No sign of life since `now - STALE_AFTER`: not claimed (queued) or not beating (running), and not
    sent again meanwhile (so a job waiting in a long queue gets one more message per STALE_AFTER, not
    one per sweep)."""
    since = now - STALE_AFTER
    return (Q(status=JobStatus.QUEUED, created_at__lt=since) | Q(status=JobStatus.RUNNING, heartbeat_at__lt=since)) & (
        Q(resent_at__isnull=True) | Q(resent_at__lt=since)
    )


def jobs_stuck(*, now: dt.datetime) -> QuerySet[Job]:
    """The current tenant's jobs that have gone quiet (see _quiet), oldest first."""
    return Job.objects.filter(_quiet(now)).select_related("actor").order_by("created_at", "pk")


def job_resend(*, job: Job, now: dt.datetime) -> bool:
    """Send the task of a quiet job again, with its tenant and actor, as job_start did (when the current
    transaction commits); True if sent. Marked first by a conditional update, so two sweeps at once send
    it once. A job that killed its worker MAX_ATTEMPTS times, or whose actor may no longer act, is
    failed instead. The task's claim decides whether it runs: never a finished job, never twice at once."""
    task = _tasks.get(job.kind)
    if task is None:
        logger.warning("job %s: no task registered for kind %r, not sent again", job.pk, job.kind)
        return False
    gave_up = ""
    if not job.actor.is_active:
        gave_up = str(MSG_ACTOR_GONE)
    elif job.status == JobStatus.RUNNING and job.attempts >= MAX_ATTEMPTS:
        gave_up = str(MSG_GAVE_UP % {"n": job.attempts})
    if gave_up:
        with trail.labelled("job.fail", gave_up[:200]):
            Job.objects.filter(_quiet(now), pk=job.pk).update(
                status=JobStatus.FAILED, message=gave_up[:300], finished_at=now
            )
        return False
    quiet_since = job.heartbeat_at if job.status == JobStatus.RUNNING else job.created_at
    with trail.labelled("job.resend", f"{job.status} and silent since {quiet_since:%Y-%m-%d %H:%M:%S}"):
        marked = Job.objects.filter(_quiet(now), pk=job.pk).update(resent_at=now)
    if marked != 1:
        return False
    task.delay_on_commit(tenant_id=str(job.tenant_id), actor_id=str(job.actor_id), job_id=str(job.pk))
    return True


def jobs_sweep() -> list[Job]:
    """For every active tenant, in its own transaction: send again the task of each job that has gone
    quiet (its worker died, or its message was lost). Returns the jobs sent again. Reads only the global
    tenant table outside a tenant's transaction."""
    now = timezone.now()
    resent: list[Job] = []
    for tenant_id in Tenant.objects.filter(is_active=True).order_by("slug").values_list("pk", flat=True):
        with tenant_transaction(tenant_id):
            resent.extend(job for job in jobs_stuck(now=now) if job_resend(job=job, now=now))
    return resent
