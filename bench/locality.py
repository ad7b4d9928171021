"""Benchmark: locality (issue 22 item 7). A district's main pages and its reconciliation take the same
time on one PostgreSQL whether it holds 1 district of 20,000 pupils or 50 such districts, and EXPLAIN
shows each main query bounded by the tenant (index scans on tenant_id, no sequential scan over the other
districts' rows).

    .venv/bin/python bench/locality.py             # --students 20000 --awards 7000 --districts 50
                                                   # --repeat 15 --explain bench-locality-explain.txt

1. A fresh PostgreSQL database (migrated as the owner, used as the app role) seeded with
   `seed_demo --scale 0.05`, then set-based with --students pupils of district demo-a, their guardians,
   identified applications for a third, a semester, --awards approved awards and a released batch
   (`bench.reconcile`'s seeding); VACUUM ANALYZE.
2. Timed, in a process of its own signed in as a.district (Django's test client, in-process: the
   page's view, its queries and its template, no HTTP server): each page --repeat times after two
   warm-up requests, the median; the reconciliation's computation (`audits.reconciliation.engine.
   reconcile`: every read, join and rule of a run, nothing written) 3 times, the median.
3. Grown set-based to --districts districts: as the owner, one INSERT … SELECT per tenant table copies
   all of demo-a's rows into --districts − 1 new districts at once (new ids for every row and every key
   between tenant tables, the same accounts; the audit trail is not copied), then ANALYZE.
4. Timed again, the same way. Then, for each page, the statements that took longest are run again
   under EXPLAIN (ANALYZE, BUFFERS) in demo-a's transaction; the plans go to --explain and every
   sequential scan of a tenant table is listed.

The database is dropped at the end, also on error.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import BENCH_ENV, PG_APP_ROLE, PG_OWNER, drop_database, fresh_database, manage, run_script

PAGES = {
    "home": "/",
    "student list": "/students/",
    "review queue": "/students/applications/",
    "awards": "/funding/awards/",
    "batches": "/disbursements/",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--awards", type=int, default=7_000)
    parser.add_argument("--districts", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--explain", default="bench-locality-explain.txt")
    parser.add_argument("--keep-database", action="store_true", help="for profiling; drop it by hand after")
    parser.add_argument("--seeded", default="", help="a kept database, just seeded (not grown): start there")
    parser.add_argument("--inner", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(*args.inner)
        return
    env: dict[str, str] = {}
    try:
        if args.seeded:
            # A database kept by an earlier run (--keep-database) right after its seeding.
            env = {**os.environ, **BENCH_ENV, "BENCH_DROP_DATABASE": args.seeded}
            env.pop("REDIS_URL", None)
            env["DATABASE_URL"] = f"postgres://{PG_APP_ROLE}@{PG_OWNER.split('@', 1)[1]}/{args.seeded}"
            owner_url = f"{PG_OWNER}/{args.seeded}"
        else:
            env = fresh_database("postgresql")
            owner_url = f"{PG_OWNER}/{env['BENCH_DROP_DATABASE']}"
            started = time.perf_counter()
            manage(["seed_demo", "--scale", "0.05"], env)
            run_script("bench.reconcile", ["--inner", "seed", str(args.students), str(args.awards)], env)
            # VACUUM as well as ANALYZE: the grown database gets both, so the two phases compare alike.
            subprocess.run(["psql", owner_url, "-qc", "VACUUM ANALYZE"], check=True)
            print(f"seeded 1 district of {args.students:,} pupils in {time.perf_counter() - started:.0f} s", flush=True)
        # Seeded outside DEBUG, the demo accounts must change their password first (the door): not timed here.
        subprocess.run(
            [
                "psql",
                owner_url,
                "-qc",
                "UPDATE schools_user SET must_change_password = false WHERE username = 'a.district'",
            ],
            check=True,
        )
        one = _measured(["--inner", "measure", str(args.repeat), ""], env)
        print(json.dumps(one), flush=True)
        started = time.perf_counter()
        counts = grow(owner_url, args.districts)
        print(f"grown to {args.districts} districts in {time.perf_counter() - started:.0f} s: {counts}", flush=True)
        many = _measured(["--inner", "measure", str(args.repeat), args.explain], env)
        print(json.dumps({k: v for k, v in many.items() if k != "seq_scans"}), flush=True)
        _table(args, one, many, counts)
    finally:
        if env and args.keep_database:
            print(f"kept: {env['DATABASE_URL']}")
        elif env:
            drop_database(env)


def _measured(args: list[str], env: dict[str, str]) -> dict:
    # The pages are timed, not the sign-in: the second factor is the door's business (load.py's way).
    env = {**env, "TWO_FACTOR_ENFORCED": "0"}
    try:
        return json.loads(run_script("bench.locality", args, env))
    except subprocess.CalledProcessError as error:
        print(error.stderr, file=sys.stderr)
        raise


def _table(args: argparse.Namespace, one: dict, many: dict, counts: dict) -> None:
    print()
    print(f"| what | 1 district (ms) | {args.districts} districts (ms) | change | within 20% |")
    print("|---|---:|---:|---:|---|")
    for name in [*PAGES, "reconciliation (compute)"]:
        a, b = one["ms"][name], many["ms"][name]
        change = (b - a) / a * 100
        print(f"| {name} | {a:.1f} | {b:.1f} | {change:+.0f}% | {'yes' if abs(change) <= 20 else 'NO'} |")
    print()
    print(f"rows: {counts}")
    print(
        f"statements explained: {many['explained']}; sequential scans of tenant tables: {many['seq_scans'] or 'none'}"
    )
    print(f"plans: {args.explain}")


def grow(owner_url: str, districts: int) -> dict:
    """Copy demo-a's rows of every tenant table into districts − 1 new districts, set-based (as the
    owner: one INSERT … SELECT per table for all the copies; keys are not checked row by row while
    copying, every copied key points at a copied row of the same new district)."""
    import psycopg

    with psycopg.connect(owner_url, autocommit=False) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no key or trigger checks while copying
        cur.execute("SELECT id FROM schools_tenant WHERE slug = 'demo-a'")
        source = cur.fetchone()[0]
        cur.execute(
            "CREATE TEMP TABLE bench_clone AS SELECT n, gen_random_uuid() AS tenant_id FROM generate_series(1, %s) n",
            [districts - 1],
        )
        cur.execute(
            "INSERT INTO schools_tenant (id, slug, name, region_code, is_active, created_at, "
            "publicity_working_days, special_category_tier) "
            "SELECT c.tenant_id, t.slug || '-' || c.n, t.name || c.n, t.region_code, t.is_active, t.created_at, "
            "t.publicity_working_days, t.special_category_tier FROM schools_tenant t, bench_clone c WHERE t.id = %s",
            [source],
        )
        # Tenant tables (a tenant_id column; not the reference tables), less the audit trail.
        from core.tenancy.db import REFERENCE_TABLES

        cur.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' "
            "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND NOT c.relname = ANY (%s) "
            "AND c.relname NOT IN ('audits_auditevent', 'audits_auditchainhead') ORDER BY 1",
            [list(REFERENCE_TABLES)],
        )
        tables = [row[0] for row in cur.fetchall()]
        # uuid columns that are keys to global tables (accounts) keep their value; every other uuid
        # column (ids, keys between tenant tables, tokens) is mapped to a new value per district.
        cur.execute(
            "SELECT k.conrelid::regclass::text, a.attname FROM pg_constraint k "
            "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey) "
            "WHERE k.contype = 'f' AND cardinality(k.conkey) = 1 "
            "AND NOT EXISTS (SELECT 1 FROM pg_attribute d WHERE d.attrelid = k.confrelid AND d.attname = 'tenant_id' "
            "AND NOT k.confrelid::regclass::text = ANY (%s))",
            [list(REFERENCE_TABLES)],
        )
        to_global = set(cur.fetchall())
        counts = {}
        for table in tables:
            cur.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass "
                "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                [table],
            )
            columns = cur.fetchall()
            picked = []
            for name, kind in columns:
                quoted = f'"{name}"'
                if name == "tenant_id":
                    picked.append("c.tenant_id")
                elif kind == "uuid" and (table, name) not in to_global:
                    picked.append(f"md5(c.n::text || t.{quoted}::text)::uuid")
                else:
                    picked.append(f"t.{quoted}")
            names = ", ".join(f'"{name}"' for name, _kind in columns)
            cur.execute(
                f'INSERT INTO "{table}" ({names}) SELECT {", ".join(picked)} '
                f'FROM "{table}" t, bench_clone c WHERE t.tenant_id = %s',
                [source],
            )
            if cur.rowcount:
                counts[table] = cur.rowcount
        conn.commit()
    subprocess.run(["psql", owner_url, "-qc", "VACUUM ANALYZE"], check=True)
    return {
        "districts": districts,
        "students_student": counts.get("students_student", 0),
        "rows copied": sum(counts.values()),
    }


def inner(step: str, *args: str) -> None:
    import django

    django.setup()
    if step == "measure":
        print(json.dumps(_measure(int(args[0]), args[1])))


def _measure(repeat: int, explain_to: str) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import setup_test_environment

    from audits.reconciliation.engine import reconcile
    from core.audit import trail
    from core.tenancy.context import tenant_transaction
    from funding.models import Semester
    from schools.models import Tenant, User

    setup_test_environment()  # the test client's host, "testserver", is allowed
    # No collectstatic here: static URLs without the manifest's hashes (no page is served to a browser).
    plain = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    override_settings(STORAGES=plain).enable()
    tenant = Tenant.objects.get(slug="demo-a")
    district = User.objects.get(username="a.district")
    client = Client()
    client.force_login(district)

    def get(url: str):
        return client.get(url, secure=True)  # DEBUG off: plain HTTP would be redirected to HTTPS

    ms: dict[str, float] = {}
    statements: dict[str, list[tuple[float, str, object]]] = {}
    for name, url in PAGES.items():
        for _ in range(2):
            _ok(get(url), url)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = get(url)
            times.append((time.perf_counter() - started) * 1000)
            _ok(response, url)
        ms[name] = statistics.median(times)
        if explain_to:
            seen: list[tuple[float, str, object]] = []

            def timed(execute, sql, params, many, context, seen=seen):
                started = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    seen.append((time.perf_counter() - started, sql, params))

            with connection.execute_wrapper(timed):
                get(url)
            statements[name] = sorted((s for s in seen if s[1].lstrip().upper().startswith("SELECT")), reverse=True)[:4]
    with trail.acting_as(trail.Actor(user_id=district.pk, label="bench", source="command")):
        with tenant_transaction(tenant.pk):
            semester = Semester.objects.filter(academic_year=2026, term="SPRING").order_by("-created_at").first()
        times = []
        for _ in range(3):
            started = time.perf_counter()
            with tenant_transaction(tenant.pk):
                reconcile(semester=semester)
            times.append((time.perf_counter() - started) * 1000)
        ms["reconciliation (compute)"] = statistics.median(times)
    result: dict = {"ms": ms}
    if explain_to:
        result.update(_explain(tenant.pk, statements, explain_to))
    return result


def _ok(response, url: str) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")


def _explain(tenant_id, statements: dict, path: str) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of each page's longest statements, in demo-a's transaction; every
    'Seq Scan on <tenant table>' line is listed."""
    import re

    from django.db import connection

    from core.tenancy.catalog import tenant_tables
    from core.tenancy.context import tenant_transaction

    with connection.cursor() as cursor:
        tables = set(tenant_tables(cursor))
    out, scans, explained = [], [], 0
    for page, found in statements.items():
        for seconds, sql, params in found:
            with tenant_transaction(tenant_id), connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            explained += 1
            out.append(f"=== {page} ({seconds * 1000:.1f} ms in the page)\n{sql}\n\n{plan}\n")
            scans.extend(
                f"{page}: {match[1]} (rows={match[2]})"
                for match in re.finditer(r"Seq Scan on (\w+).*?rows=(\d+) loops", plan)
                if match[1] in tables
            )
    Path(path).write_text("\n".join(out))
    return {"explained": explained, "seq_scans": scans}


if __name__ == "__main__":
    main()
