"""Project-level pages: the role-aware home page and the health check."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import home as home_panels


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each person's start page: what waits for them, and the units they are responsible for."""
    return render(request, "home.html", {"home": home_panels.for_user(request.user)})


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not answering"; say which
        return False, type(exc).__name__
    return True, "ok"


def _broker_ok() -> tuple[bool | None, str]:
    if not settings.REDIS_URL:
        return None, "not configured: tasks run in-process"
    from funding.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # a broker that does not answer is reported, not raised
        return False, type(exc).__name__
    return True, "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with the state of the database and the broker; 503 if either does not answer."""
    db_ok, db_detail = _database_ok()
    broker_ok, broker_detail = _broker_ok()
    healthy = db_ok and broker_ok is not False
    body = {
        "status": "ok" if healthy else "degraded",
        "database": {"ok": db_ok, "vendor": connection.vendor, "detail": db_detail},
        "broker": {"ok": broker_ok, "detail": broker_detail},
    }
    return JsonResponse(body, status=200 if healthy else 503)
