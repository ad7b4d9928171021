"""The Django project (settings, urls, Celery app) and, as an app, the funding-program domain."""

from .celery import app as celery_app

__all__ = ["celery_app"]
