"""A real Celery worker in its own process, on Redis, against the test database."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

from config.celery import app


def database_url_for_worker() -> str:
    """The test database as the app connects to it (on PostgreSQL: as the app role)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    password = os.environ.get("DATABASE_APP_PASSWORD", "")
    auth = f"{s['USER']}:{password}" if password else s["USER"]
    return f"postgres://{auth}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


@contextmanager
def running_worker(*, concurrency: int = 1, include: tuple[str, ...] = ()) -> Iterator[subprocess.Popen]:
    """Start `celery worker` on a queue of its own (so no other worker on the machine takes its tasks)
    and route this process's tasks there until the block ends. `include`: test modules the worker
    imports at start (`celery --include`), e.g. one that holds a write open so a test can kill it."""
    queue = f"test-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url_for_worker(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": queue,
    }
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "-Q", queue, "-c", str(concurrency), "--pool", os.environ.get("TEST_WORKER_POOL", "prefork"),
            "-l", os.environ.get("TEST_WORKER_LOGLEVEL", "warning"),
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            *(["--include", ",".join(include)] if include else []),
        ],
        env=env,
        cwd=settings.BASE_DIR,
    )  # fmt: skip
    try:
        yield process
    finally:
        app.conf.task_default_queue = previous
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def job_now(tenant_id, job_id):
    """A job as its page shows it (the row, with progress made inside a transaction from the cache)."""
    from core.tenancy.context import tenant_transaction
    from schools import jobs
    from schools.models import Job

    with tenant_transaction(tenant_id):
        return jobs.job_live(Job.objects.get(pk=job_id))


def wait_for_job(tenant_id, job_id, until, seconds: float = 90):
    """Poll the job until `until(job)` holds; AssertionError with its state after `seconds`."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = job_now(tenant_id, job_id)
        if until(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job.status} ({job.done}/{job.total} {job.message})")


def worker_for_pages() -> contextlib.AbstractContextManager:
    """What a page test needs for the background job its button starts: nothing without a broker (the
    task runs in-process after the request commits), a real worker with Redis."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return contextlib.nullcontext()
    return running_worker()
