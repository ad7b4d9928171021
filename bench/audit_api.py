"""Benchmark: reading a district's whole audit trail through the API, page by page, with the cursor the
API pages by now and, side by side on the same data, the page numbers it used before (the obvious way).

    .venv/bin/python bench/audit_api.py            # --vendors postgresql sqlite --events 95730
                                                   # --page-sizes 50 100 1000 --baseline-page-size 50

Per database: a fresh database (migrated as the owner, used as the app role), one district with an
auditor, and --events audit events appended to its chain through the audit writer (`core.audit.append`,
sealed, in chunks of 10,000), then ANALYZEd on PostgreSQL. The auditor, signed in, reads
/api/v1/audit-events/ from the first page to the last by following `next` through Django's test client
(the whole stack: middleware, tenant transaction, row-level security, DRF, JSON; no network): with the
cursor at each of --page-sizes, then with DRF's PageNumberPagination at --baseline-page-size (the API's
PAGE_SIZE before: 50). Reported: pages, total seconds, events per second, the first and the last page's
time. The database is dropped at the end, also on error.
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import PG_OWNER, ROOT, drop_database, fresh_database

CHUNK = 10_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vendors", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--events", type=int, default=95_730, help="audit events of the district")
    parser.add_argument("--page-sizes", nargs="+", type=int, default=[50, 100, 1000], help="cursor page sizes")
    parser.add_argument("--baseline-page-size", type=int, default=50, help="the page-number pagination's")
    parser.add_argument("--inner", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(*args.inner)
        return
    results = []
    for vendor in args.vendors:
        env = fresh_database(vendor)
        try:
            seeded = _inner(["seed", str(args.events)], env)
            if vendor == "postgresql":
                # What autovacuum does soon after this many inserts (only the owner may): planner statistics.
                db = f"{PG_OWNER}/{env['BENCH_DROP_DATABASE']}"
                subprocess.run(["psql", db, "-qc", "ANALYZE"], check=True)
            runs = [("cursor", size) for size in args.page_sizes] + [("page numbers", args.baseline_page_size)]
            timed = [_inner(["read", kind, str(size)], env) for kind, size in runs]
        finally:
            drop_database(env)
        results.append((vendor, seeded, timed))
    _print(args, results)


def _inner(args: list[str], env: dict[str, str]) -> dict:
    """One step in a process of its own on the bench database; its errors shown if it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.audit_api", "--inner", *args],
        cwd=ROOT,
        env={**env, "ALLOWED_HOSTS": "testserver"},  # the test client's host, under production settings
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def _setup_django() -> None:
    import django

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    django.setup()


def inner(step: str, *values: str) -> None:
    _setup_django()
    if step == "seed":
        print(json.dumps(_seed(int(values[0]))))
    elif step == "read":
        print(json.dumps(_read(values[0], int(values[1]))))


def _seed(events: int) -> dict:
    from core.audit.append import Pending, append
    from core.tenancy.context import tenant_transaction
    from schools import services
    from schools.permissions import Role

    started = time.perf_counter()
    tenant = services.tenant_create(slug="bench-audit", name="bench district", region_code="410622")
    with tenant_transaction(tenant.pk):
        auditor = services.user_create(
            tenant=tenant, username="bench-auditor", password=secrets.token_urlsafe(), validate=False
        )
        services.role_assign(user=auditor, role=Role.DISTRICT_AUDITOR, unit=None)
    written = 0
    while written < events:
        n = min(CHUNK, events - written)
        with tenant_transaction(tenant.pk):
            append(
                [
                    Pending(
                        tenant_id=tenant.pk,
                        action=("student.update", "application.decide", "award.approve")[i % 3],
                        object_type="students.student",
                        object_id=f"{written + i:08d}",
                        before={"status": "OLD", "note": "x" * 40},
                        after={"status": "NEW", "note": "y" * 40},
                    )
                    for i in range(n)
                ]
            )
        written += n
    return {"events": written, "seconds": round(time.perf_counter() - started, 1)}


def _read(kind: str, page_size: int) -> dict:
    from django.test import Client
    from rest_framework.pagination import PageNumberPagination

    from audits.api.views import AuditEventViewSet
    from schools.models import User

    if kind == "page numbers":
        # The API as it was: DRF's page numbers (a COUNT of the trail and an OFFSET on every page).
        class PageNumbers(PageNumberPagination):
            pass

        PageNumbers.page_size = page_size
        AuditEventViewSet.pagination_class = PageNumbers
    client = Client()
    client.force_login(User.objects.get(username="bench-auditor"))
    url = f"/api/v1/audit-events/?page_size={page_size}"
    pages, events, times = 0, 0, []
    started = time.perf_counter()
    while url:
        t0 = time.perf_counter()
        response = client.get(url, secure=True)  # production settings redirect plain HTTP
        times.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.content[:200]!r}")
        body = response.json()
        pages += 1
        events += len(body["results"])
        url = body["next"]
    total = time.perf_counter() - started
    return {
        "plan": _plan(client, page_size) if kind == "cursor" else "",
        "kind": kind,
        "page_size": page_size,
        "pages": pages,
        "events": events,
        "seconds": round(total, 2),
        "per_second": round(events / total),
        "first_page_ms": round(times[0] * 1000, 1),
        "last_page_ms": round(times[-1] * 1000, 1),
    }


def _plan(client, page_size: int) -> str:
    """PostgreSQL's plan of a middle page's query (the second page: a cursor position to start from)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.tenancy.context import tenant_transaction
    from schools.models import Tenant

    if connection.vendor != "postgresql":
        return ""
    second = client.get(f"/api/v1/audit-events/?page_size={page_size}", secure=True).json()["next"]
    with CaptureQueriesContext(connection) as queries:
        client.get(second, secure=True)
    sql = next(q["sql"] for q in queries.captured_queries if 'FROM "audits_auditevent"' in q["sql"])
    with tenant_transaction(Tenant.objects.get(slug="bench-audit").pk), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return " / ".join(row[0].strip() for row in cursor.fetchall())


def _print(args: argparse.Namespace, results: list) -> None:
    print(f"\nAudit events through the API: {args.events:,} events read page by page\n")
    print("| database | pagination | page size | pages | total | events/s | first page | last page |")
    print("|---|---|---|---|---|---|---|---|")
    for vendor, seeded, timed in results:
        for t in timed:
            print(
                f"| {vendor} | {t['kind']} | {t['page_size']} | {t['pages']:,} | {t['seconds']:.1f} s "
                f"| {t['per_second']:,} | {t['first_page_ms']:.0f} ms | {t['last_page_ms']:.0f} ms |"
            )
        print(f"\n({vendor}: {seeded['events']:,} events seeded in {seeded['seconds']} s)")
        for t in timed:
            if t["plan"]:
                print(f"plan of a cursor page ({t['page_size']}): {t['plan']}")


if __name__ == "__main__":
    main()
