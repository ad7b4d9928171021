"""Is the service able to work: does the database answer, and the broker (when there is one)?"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection


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
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # a broker that does not answer is reported, not raised
        return False, type(exc).__name__
    return True, "ok"


def check() -> dict[str, Any]:
    """The state of the database and the broker, as /healthz reports it."""
    db_ok, db_detail = _database_ok()
    broker_ok, broker_detail = _broker_ok()
    healthy = db_ok and broker_ok is not False
    return {
        "status": "ok" if healthy else "degraded",
        "database": {"ok": db_ok, "vendor": connection.vendor, "detail": db_detail},
        "broker": {"ok": broker_ok, "detail": broker_detail},
    }
