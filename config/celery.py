"""The Celery app. Configuration lives in settings (CELERY_*): at-least-once delivery (acks late, requeue
when a worker dies, prefetch 1) with idempotent tasks; without REDIS_URL tasks run in-process."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("funding")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_to_start_without_secrets(**kwargs):
    """A worker or beat without its secrets exits, saying what to set. SystemExit, not the
    ImproperlyConfigured itself: Celery's signals log a handler's exceptions and carry on."""
    from django.core.exceptions import ImproperlyConfigured

    from core.checks import refuse_to_start_without_secrets

    try:
        refuse_to_start_without_secrets()
    except ImproperlyConfigured as exc:
        raise SystemExit(str(exc)) from exc
