"""回访's draw: the database orders the paid lines by MD5("<seed>:<id>") and keeps the first n (what
`oversight.checks.services.sample_lines` sends), against the obvious alternative, fetching every id
and sorting by hashlib in Python. A TEMP table of N uuids stands for a batch's paid lines (the draw's
statement reads only the id; the real one adds the batch and status filter, served by the line index).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/spot_check_draw.py 100000 200
"""

from __future__ import annotations

import hashlib
import os
import statistics
import sys
import time

import psycopg


def main(n: int, size: int, seed: int = 20261207) -> None:
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE lines AS SELECT gen_random_uuid() AS id FROM generate_series(1, %s)", [n])
        sql_times, py_times = [], []
        for _ in range(5):
            t = time.perf_counter()
            cur.execute("SELECT id FROM lines ORDER BY md5(%s || id::text), id LIMIT %s", [f"{seed}:", size])
            in_sql = [r[0] for r in cur.fetchall()]
            sql_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            cur.execute("SELECT id FROM lines")
            ids = [r[0] for r in cur.fetchall()]
            in_python = sorted(ids, key=lambda u: (hashlib.md5(f"{seed}:{u}".encode()).hexdigest(), str(u)))[:size]  # noqa: S324
            py_times.append(time.perf_counter() - t)
            if in_sql != in_python:  # the same draw either way
                raise SystemExit("the two draws differ")
        print(f"{n} paid lines, sample of {size}: database {statistics.median(sql_times) * 1000:.0f} ms, "
              f"Python over fetched ids {statistics.median(py_times) * 1000:.0f} ms (median of 5)")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
