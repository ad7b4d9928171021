"""Shared by the benchmarks: a fresh database (SQLite file or PostgreSQL), migrated as the owner, used
as the app role, exactly as production runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_OWNER = os.environ.get("BENCH_PG_OWNER_URL", "postgres://postgres@127.0.0.1:5432")
PG_APP_ROLE = os.environ.get("DATABASE_APP_ROLE", "funding_app")

BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "FIELD_ENCRYPTION_KEYS": "b1:YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE=",
    "BLIND_INDEX_KEY": "YmVuY2gtb25seS1ibGluZC1pbmRleC1rZXktMTIzNDU=",
    "AUDIT_HMAC_KEY": "YmVuY2gtb25seS1hdWRpdC1obWFjLWtleS0xMjM0NTY=",
    "PLATFORM_MATCH_KEY": "YmVuY2gtb25seS1wbGF0Zm9ybS1tYXRjaC1rZXktMTI=",
    "LOG_LEVEL": "WARNING",
}


def fresh_database(vendor: str) -> dict[str, str]:
    """Create and migrate an empty database; return the environment that uses it as the app does."""
    env = {**os.environ, **BENCH_ENV}
    env.pop("REDIS_URL", None)
    if vendor == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="bench-")) / "bench.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{path}"
        env["BENCH_DROP_DIRECTORY"] = str(path.parent)
        manage(["migrate", "-v0"], env)
        return env
    name = f"bench_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", f"{PG_OWNER}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    manage(["migrate", "-v0"], {**env, "DATABASE_URL": f"{PG_OWNER}/{name}"})
    host = PG_OWNER.split("@", 1)[1]
    env["DATABASE_URL"] = f"postgres://{PG_APP_ROLE}@{host}/{name}"
    env["BENCH_DROP_DATABASE"] = name
    return env


def drop_database(env: dict[str, str]) -> None:
    """Remove what fresh_database made: the PostgreSQL database, or the SQLite file's directory (a
    100,000-pupil database is about 450 MB)."""
    directory = env.get("BENCH_DROP_DIRECTORY")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
    name = env.get("BENCH_DROP_DATABASE")
    if name:
        subprocess.run(
            ["psql", f"{PG_OWNER}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
            check=False,
        )


def manage(args: list[str], env: dict[str, str]) -> float:
    """Run manage.py; return the wall time in seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def run_script(module: str, args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout
