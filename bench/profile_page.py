"""Where one page's time goes: wall time, queries and the hottest functions of a signed-in request,
served in-process (Django's test client, the whole middleware stack, `DEBUG=0`) from a database that
`bench/load.py --keep-database` left behind.

    DATABASE_URL=postgres://funding_app@127.0.0.1:5432/bench_xxxxxxxx \\
        .venv/bin/python bench/profile_page.py a.teacher:/ /students/ -n 30 [--profile 25] [--sql]

A URL is "user:/path/" or "/path/" (as a.district), as in `bench/load.py`. For each: the median and
p90 of -n requests after two warm-up requests, the queries of one request (with --sql, their text and
time), the median CPU time of this process (the app's own share, steadier than wall time on a busy
machine), and with --profile N the N functions of most own time over all requests (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import BENCH_ENV


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("urls", nargs="+")
    parser.add_argument("-n", type=int, default=30)
    parser.add_argument("--profile", type=int, default=0, help="print the N functions of most own time")
    parser.add_argument("--sort", default="tottime", help="cProfile's order: tottime, cumulative, ...")
    parser.add_argument("--sql", action="store_true", help="print each query of one request and its time")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        parser.error("set DATABASE_URL to the database bench/load.py --keep-database printed")
    for key, value in {
        **BENCH_ENV,
        "ALLOWED_HOSTS": "testserver",
        "TWO_FACTOR_ENFORCED": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "STATIC_ROOT": os.path.join(tempfile.gettempdir(), "bench-profile-static"),
    }.items():
        os.environ.setdefault(key, value)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from schools.models import User

    # As deployed: the hashed static files' manifest (collected once into a scratch folder).
    call_command("collectstatic", "--noinput", verbosity=0)

    clients: dict[str, Client] = {}
    for spec in args.urls:
        user, _, url = spec.rpartition(":") if not spec.startswith("/") else ("", "", spec)
        user = user or "a.district"
        client = clients.get(user)
        if client is None:
            client = clients[user] = Client()
            client.force_login(User.objects.get(username=user))
        for _ in range(2):
            status = client.get(url).status_code
        if status != 200:
            print(f"{spec:36} answered {status}; skipped")
            continue
        queries: list[tuple[float, str]] = []

        def record(execute, sql, params, many, context, seen=queries):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                seen.append((time.perf_counter() - started, sql))

        with connection.execute_wrapper(record):
            client.get(url)
        times, cpu = [], []
        profiler = cProfile.Profile() if args.profile else None
        for _ in range(args.n):
            started, started_cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            client.get(url)
            if profiler:
                profiler.disable()
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        times.sort()
        p90 = times[int(len(times) * 0.9) - 1] if len(times) >= 10 else times[-1]
        sql_ms = sum(seconds for seconds, _sql in queries) * 1000
        print(
            f"{spec:36} median {statistics.median(times):7.1f} ms  p90 {p90:7.1f} ms  "
            f"(this process's CPU {statistics.median(cpu):6.1f} ms)  "
            f"queries {len(queries):3} ({sql_ms:.1f} ms in the database, one request)"
        )
        if args.sql:
            for seconds, sql in queries:
                print(f"    {seconds * 1000:7.2f} ms  {sql[:300]}")
        if profiler:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            # Function calls per request: a count that does not move with the machine's load.
            print(f"    {stats.total_calls / args.n:,.0f} Python function calls a request")
            stats.sort_stats(args.sort).print_stats(args.profile)
            print(out.getvalue())


if __name__ == "__main__":
    main()
