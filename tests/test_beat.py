"""Beat keeps its schedule in the database (django-celery-beat), not in a file on one host's disk
(issue 22, item 5): a real `celery beat` against the test database writes the settings' entries and the
time of each run there, writes no schedule file, and a beat started again (on any host) carries on from
the same rows instead of starting over."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager

import pytest
import redis
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from tests.workers import database_url_for_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@contextmanager
def running_beat(cwd, queue):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url_for_worker(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": queue,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "--workdir", str(settings.BASE_DIR), "beat", "-l", "warning"],
        env=env,
        cwd=cwd,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait(condition, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"still waiting for {what}")


def _sweep_runs() -> int:
    return PeriodicTask.objects.filter(name="sweep-jobs").values_list("total_run_count", flat=True).first() or 0


def test_beat_keeps_its_schedule_and_last_runs_in_the_database_and_no_file(tmp_path):
    queue = f"test-beat-{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        with running_beat(tmp_path, queue):
            # The sweep (every 30 s, never run yet) is due at once: its message reaches the broker, and
            # the run is written to the database as it is sent (CELERY_BEAT_SYNC_EVERY = 1).
            _wait(lambda: client.llen(queue) >= 1, "the first sweep sent by beat")
            _wait(lambda: _sweep_runs() >= 1, "the first sweep recorded in the database")
        names = set(PeriodicTask.objects.values_list("name", flat=True))
        assert set(settings.CELERY_BEAT_SCHEDULE) <= names
        first = PeriodicTask.objects.get(name="sweep-jobs")
        assert first.last_run_at is not None
        assert list(tmp_path.iterdir()) == [], "beat wrote a schedule file on this host's disk"

        # Another beat (here, later or on another host) reads the same rows: no entry twice, and the
        # run count goes on from where the first one stopped. Time is not waited for: the last run is
        # moved back past the interval, so the sweep is due again when the second beat starts.
        PeriodicTask.objects.filter(pk=first.pk).update(last_run_at=first.last_run_at - dt.timedelta(minutes=5))
        with running_beat(tmp_path, queue):
            _wait(lambda: _sweep_runs() > first.total_run_count, "the next sweep, counted on from the first")
        assert PeriodicTask.objects.count() == len(names)
        assert list(tmp_path.iterdir()) == []
    finally:
        client.delete(queue)
