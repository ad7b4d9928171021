"""Test settings: the production settings with test-only keys and fast password hashing.

DATABASE_URL and REDIS_URL are honoured as in production, so `make test` runs the same suite on
SQLite (nothing set) and on PostgreSQL + Redis (both set, as in CI).
"""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
# Fixed test-only keys (32 bytes each, base64): the suite runs with DEBUG off, like production.
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "t1:dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5ISE=")
os.environ.setdefault("BLIND_INDEX_KEY", "dGVzdC1vbmx5LWJsaW5kLWluZGV4LWtleS0xMjM0NTY=")
os.environ.setdefault("AUDIT_HMAC_KEY", "dGVzdC1vbmx5LWF1ZGl0LWhtYWMta2V5LTEyMzQ1Njc=")
os.environ.setdefault("PLATFORM_MATCH_KEY", "dGVzdC1vbmx5LXBsYXRmb3JtLW1hdGNoLWtleS0xMjM=")

# pytest-xdist runs the suite in several processes ("gw0", "gw1", ...), each on its own test database
# (pytest-django adds the suffix). Each also gets its own Redis database: job progress is cached under
# the job's id (ids start at 1 in every test database), sessions live in the cache, and a test that
# empties the cache (the door's throttle counts) must not sign the other process's users out. The
# Celery workers a test starts inherit the shifted URL (and the marker, so they do not shift it again).
_XDIST = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST and os.environ.get("REDIS_URL") and not os.environ.get("TEST_REDIS_PER_PROCESS"):
    _url = urlsplit(os.environ["REDIS_URL"])
    _db = (int(_url.path.strip("/") or 0) + 1 + int(_XDIST.removeprefix("gw"))) % 16
    os.environ["REDIS_URL"] = urlunsplit(_url._replace(path=f"/{_db}"))
    os.environ["TEST_REDIS_PER_PROCESS"] = "1"

from config.settings import *  # noqa: E402, F403
from config.settings import STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ALLOWED_HOSTS = ["*"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Files and checkpoints of parallel processes (above) kept apart too.
# Uploaded evidence and reports written by tests stay out of the working tree.
MEDIA_ROOT = Path(tempfile.gettempdir()) / f"student-aid-test-media{_XDIST}"
# Checkpoints of the audit chains too (tests that read them set their own directory).
AUDIT_CHECKPOINT_DIR = Path(tempfile.gettempdir()) / f"student-aid-test-audit-checkpoints{_XDIST}"
# The door (schools.door) is switched on by its own tests (tests/test_door_*.py, through the `door`
# fixture): the rest of the suite signs in with force_login, which is no second factor, and fuzzes the
# token endpoint with wrong passwords from one address, which would lock it.
TWO_FACTOR_ENFORCED = False
# The browser tests walk the seeded demo with its README password (DEBUG is off here, as in production).
DEMO_PASSWORDS_ALLOWED = True
AXES_ENABLED = False
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute", "token": "100000/minute"},
}
# The whole suite runs with pages kept (core.pagecache), on SQLite too (one process, its own memory):
# every test that writes and then reads a page checks that the write reached the page.
PAGE_CACHE = True
