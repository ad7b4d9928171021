"""The Celery app. Configuration lives in settings (CELERY_*): at-least-once delivery (acks late, requeue
when a worker dies, prefetch 1) with idempotent tasks; without REDIS_URL tasks run in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "funding.settings")

app = Celery("funding")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
