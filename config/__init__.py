"""Project wiring: settings, the URL tree, the Celery app, WSGI/ASGI, the project-wide pages (home,
health, sign-in) and the admin site. Not a domain app: it stands above every app and composes them."""

from .celery import app as celery_app

__all__ = ["celery_app"]
