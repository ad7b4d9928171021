"""Configuration: production settings pass Django's deploy checks, and refuse to run without keys."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x9#Lq2!vR7@pZ4$wN8^cT1&mK6*hB3(jF5)gD0_sY-eU+aQ=iO~oP",
    "ALLOWED_HOSTS": "aid.example.gov.cn",
    "FIELD_ENCRYPTION_KEYS": "k1:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=",
    "BLIND_INDEX_KEY": "MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0dXY=",
    "AUDIT_HMAC_KEY": "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=",
    "PLATFORM_MATCH_KEY": "cGxhdGZvcm0tbWF0Y2gta2V5LWZvci10aGUtdGVzdHM=",
}


def _run(command: list[str], env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    """Run a command in a fresh process with the given settings and nothing of the suite's."""
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        command,
        cwd=settings.BASE_DIR,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return _run([sys.executable, "manage.py", *args], env)


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_static_files_build_with_every_reference_resolved(tmp_path):
    """The manifest storage refuses a CSS or JS file that names a missing file (a source map, a font)."""
    result = _manage("collectstatic", "--noinput", env={**PRODUCTION, "STATIC_ROOT": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("vendor/htmx/htmx.min.*.js"))


def test_production_refuses_to_run_without_the_personal_data_keys():
    env = {k: v for k, v in PRODUCTION.items() if k != "BLIND_INDEX_KEY"}
    result = _manage("check", "--deploy", env=env)
    assert result.returncode != 0
    assert "funding.E001" in result.stderr
    assert "BLIND_INDEX_KEY" in result.stderr


def test_without_secret_key_outside_debug_the_settings_say_what_to_set():
    result = _manage("check", "--deploy", env={"DEBUG": "0"})
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_the_migrations_can_be_checked_on_a_bare_checkout():
    """No secret is needed to ask whether a model change lacks its migration (CI, a reviewer)."""
    result = _manage("makemigrations", "--check", "--dry-run", env={})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_the_web_app_refuses_to_start_without_its_secrets():
    env = {k: v for k, v in PRODUCTION.items() if k not in ("SECRET_KEY", "AUDIT_HMAC_KEY")}
    for module in ("config.wsgi", "config.asgi"):
        result = _run([sys.executable, "-c", f"import {module}"], env)
        assert result.returncode != 0, module
        assert "Not set: SECRET_KEY, AUDIT_HMAC_KEY" in result.stderr, result.stderr[-2000:]
    assert _run([sys.executable, "-c", "import config.wsgi"], PRODUCTION).returncode == 0


def test_the_celery_worker_refuses_to_start_without_its_secrets():
    """A real worker exits at its start (worker_init), before it takes any task; were it to start,
    it would run until the timeout and fail the test."""
    env = {k: v for k, v in PRODUCTION.items() if k != "FIELD_ENCRYPTION_KEYS"}
    worker = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING"]
    result = _run(worker, env, timeout=60)
    assert result.returncode != 0
    assert "Not set: FIELD_ENCRYPTION_KEYS" in result.stderr, result.stderr[-2000:]
    # With every secret the same start passes (the signal's receiver, in-process).
    ok = "import django; django.setup(); from celery import signals; signals.worker_init.send(sender=None)"
    assert _run([sys.executable, "-c", ok], PRODUCTION).returncode == 0
